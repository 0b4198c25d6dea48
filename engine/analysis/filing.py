"""Word reports filed by the recurring jobs and by the arrival of an assessment, under attachments/reports."""

from __future__ import annotations

from pathlib import Path

from engine.factory import attachments_dir
from engine.service import Engine

from . import periods
from .reports import file_report, report_filename, write_report

# Recurring job name -> report kind it files a draft of before staff review and send it.
REPORT_JOBS = {"weekly_report": "weekly", "monthly_report": "monthly", "quarterly_report": "quarterly",
               "annual_report": "annual"}


def reports_dir() -> Path:
    return attachments_dir() / "reports"


def file_job_report(engine: Engine, job: str) -> Path | None:
    """The draft report a recurring report job hands to staff; None for jobs that are not reports."""
    kind = REPORT_JOBS.get(job)
    return file_report(engine, kind, reports_dir()) if kind else None


def file_retrospective(engine: Engine, month: str) -> Path:
    """The lost-points analysis for the retrospective of assessment month `month` (YYYY-MM)."""
    period = periods.parse(month, engine.rules)
    path = reports_dir() / report_filename("retrospective", period)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_report(engine, "retrospective", period, path)
    return path
