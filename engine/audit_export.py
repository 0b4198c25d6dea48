"""Exports an audit query to CSV or Excel, with callers' data as the reader's role allows."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import audit
from engine.audit import AuditEntry, event_label
from engine.audit_query import AuditFilter, check_reader, head_id, iter_rows
from engine.errors import InvalidData
from engine.localtime import staff_text
from engine.models import Ticket
from engine.privacy import PERSONAL_FIELDS, Actor, mask_name, mask_phone, sees_personal_data
from engine.tabular import Progress, write_csv, write_xlsx

if TYPE_CHECKING:
    from engine.service import Engine

HEADER = ["记录编号", "时间（北京时间）", "操作人", "事件", "事件代码", "工单编号", "来电人", "来电号码",
          "流程实例", "任务", "详情"]
# The lead unit decides, row by row, whether a unit-scoped reader sees the callers' data.
_CALLER = (Ticket.__table__.c.caller_name, Ticket.__table__.c.caller_phone, Ticket.__table__.c.lead_unit)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    unmasked_tickets: int  # tickets whose callers' data the file shows in full (recorded in the trail)


def export_audit(engine: Engine, reader: Actor, flt: AuditFilter, path: Path,
                 progress: Progress = None) -> ExportResult:
    """Write the rows matching `flt` (as of now) to `path` (.csv or .xlsx).

    The file is built beside `path` and only moved into place after an unmasked export has been
    recorded in the trail, so nobody receives callers' data that the trail does not show.
    """
    check_reader(engine, reader)
    writer = _writer(path)
    allowed = engine.rules.at(engine.clock().date())["personal_data_roles"]
    partial = path.with_name(path.name + ".part")
    shown: set[int] = set()
    try:
        with engine.db.engine.connect() as conn:
            rows = iter_rows(conn, flt, head_id(conn), extra=_CALLER)
            lines = (_line(row, sees_personal_data(reader, allowed, row.lead_unit), shown) for row in rows)
            written = writer(partial, HEADER, lines, progress)
        if shown:
            _record(engine, reader, path.suffix.lower(), written, shown)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportResult(path, written, len(shown))


def _writer(path: Path) -> Callable[..., int]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return partial(write_csv, guard_formulas=True)
    if suffix == ".xlsx":
        return write_xlsx
    raise InvalidData("导出文件名必须以 .csv 或 .xlsx 结尾", {"path": ["只支持 .csv 和 .xlsx。"]})


def _line(row: Any, unmasked: bool, shown: set[int]) -> list[Any]:
    name, phone = row.caller_name, row.caller_phone
    if unmasked and (name or phone):
        shown.add(row.ticket_id)
    elif not unmasked:
        name, phone = mask_name(name), mask_phone(phone)
    return [row.id, staff_text(row.at), row.actor, event_label(row.event), row.event, row.ticket_no or "",
            name or "", phone or "", row.instance_id or "", row.task_id or "",
            json.dumps(row.data, ensure_ascii=False, sort_keys=True, default=str)]


def _record(engine: Engine, reader: Actor, fmt: str, rows: int, tickets: set[int]) -> None:
    now = engine.clock()
    entry = AuditEntry("personal_data.exported", reader.name, data={
        "format": fmt.lstrip("."), "rows": rows, "fields": list(PERSONAL_FIELDS), "ticket_ids": sorted(tickets)})
    with engine.db.transaction() as conn:
        audit.append(conn, [entry], now)
