"""Word reports open with python-docx, have their sections, tables and images, and show the analysis figures."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document

from engine.analysis import periods
from engine.analysis.fmt import score
from engine.analysis.hot import hot_issues
from engine.analysis.ranking import import_ranking
from engine.analysis.rates import costly_tickets, period_rates
from engine.analysis.reports import SECTION_TITLES, SECTIONS, build_report, file_report, report_period
from engine.analysis.ticket_import import import_tickets
from engine.errors import InvalidData
from tests.conftest import ADMIN
from tests.sheets import sheet_row, write_csv
from tests.test_ranking import ranking_rows, write_ranking
from tests.test_rates import MONTH_ROWS

PERIODS = {"weekly": "2026-W45", "monthly": "2026-11", "quarterly": "2026-Q4", "annual": "2026",
           "retrospective": "2026-11"}
IMAGES = {"weekly": 2, "monthly": 4, "quarterly": 4, "annual": 4, "retrospective": 3}


@pytest.fixture
def data(engine, tmp_path):
    earlier = [sheet_row("P1", "2026-10-10 09:00:00", 一级分类="住房", 主要内容="暖气不热"),
               sheet_row("P2", "2026-10-11 09:00:00", 是否满意="不满意")]
    import_tickets(engine, write_csv(tmp_path / "t.csv", MONTH_ROWS + earlier), ADMIN)
    import_ranking(engine, write_ranking(tmp_path / "r.csv", ranking_rows(9)), "2026-11", ADMIN)
    return engine


@pytest.mark.parametrize("kind", sorted(SECTIONS))
def test_report_structure(data, kind):
    period = periods.parse(PERIODS[kind], data.rules)
    content = build_report(data, kind, period)
    document = Document(io.BytesIO(content))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert [h.split("、", 1)[1] for h in headings] == [SECTION_TITLES[s] for s in SECTIONS[kind]]
    assert document.paragraphs[0].text.startswith("城南街道") and period.label in document.paragraphs[1].text
    assert len(document.inline_shapes) == IMAGES[kind]
    assert len(document.tables) >= len(SECTIONS[kind])
    xml = zipfile.ZipFile(io.BytesIO(content)).read("word/document.xml").decode()
    assert "李四" not in xml and "13912345678" not in xml  # callers' personal data never goes into reports


def test_monthly_figures_match_the_analysis(data):
    period = periods.parse("2026-11", data.rules)
    document = Document(io.BytesIO(build_report(data, "monthly", period)))
    overview = _table_starting(document, "指标")
    rates, previous = period_rates(data, period).overall, period_rates(data, periods.parse("2026-10", data.rules))
    assert overview[4] == ["综合得分", score(rates.composite), score(previous.overall.composite)]
    assert overview[4][1] == "61.20"
    categories = _table_starting(document, "一级分类", "有效回访")
    assert categories[1][:2] == ["住房", "2"] and categories[1][-1] == "38.00"
    hot = hot_issues(data, period).categories
    hot_table = _table_starting(document, "一级分类", "本期")
    expected = [[key, str(count)] for key, count in zip(hot["key"], hot["count"], strict=True)]
    assert [row[:2] for row in hot_table[1:]] == expected
    costly = _table_starting(document, "工单编号")
    assert [(row[0], row[-1]) for row in costly[1:]] == [(t.ticket_no, score(t.lost_points))
                                                        for t in costly_tickets(data, period)]
    text = "\n".join(p.text for p in document.paragraphs)
    assert "排名 9/22，等次 良好，对应奖惩 0 元" in text


def test_retrospective_lists_every_costly_ticket(data):
    period = periods.parse("2026-11", data.rules)
    document = Document(io.BytesIO(build_report(data, "retrospective", period)))
    costly = _table_starting(document, "工单编号")
    assert len(costly) - 1 == len(costly_tickets(data, period, limit=None)) == 3


def test_wrong_period_kind_and_default_period(data):
    with pytest.raises(InvalidData, match="工作月报的期间应为考核月"):
        build_report(data, "monthly", periods.parse("2026-Q4", data.rules))
    # The fake clock stands at 2026-11-20 (Beijing): the last complete month is 2026-11, quarter 2026-Q3.
    assert report_period(data, "monthly").label == "2026-11"
    assert report_period(data, "quarterly").label == "2026-Q3"


def _table_starting(document, *header: str) -> list[list[str]]:
    for table in document.tables:
        cells = [[cell.text for cell in row.cells] for row in table.rows]
        if cells[0][:len(header)] == list(header):
            return cells
    raise AssertionError(f"no table starting with {header}")


def test_recurring_job_files_each_period_once(data, tmp_path, clock):
    folder = tmp_path / "reports"
    path = file_report(data, "monthly", folder)
    assert path.name == "接诉即办工作月报-2026-11.docx"
    written = path.stat().st_mtime_ns
    clock.advance(days=1)
    assert file_report(data, "monthly", folder) == path and path.stat().st_mtime_ns == written
    assert [p.name for p in folder.iterdir()] == [path.name]
