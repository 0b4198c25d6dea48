"""Exports of audit queries to CSV and Excel: the query's rows, callers' data as the reader's role allows."""

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import load_workbook

from engine.audit_export import HEADER, export_audit
from engine.audit_query import AuditFilter
from engine.errors import Forbidden, InvalidData
from engine.privacy import Actor
from tests.conftest import INTAKE
from tests.helpers import VALID, audit_rows, do, receive

AUDITOR = Actor("审计员周", frozenset({"auditor"}))
# An auditor who also holds a role allowed to see callers' data (rules: personal_data_roles).
AUDITING_INTAKE = Actor("审计员吴", frozenset({"auditor", "intake"}))


def _csv(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _ids(engine) -> list[int]:
    return [row.id for row in audit_rows(engine)]


@pytest.fixture
def tickets(engine):
    first = receive(engine, "E-1", caller_name="=HYPERLINK(1)", caller_phone="13911112222")
    second = receive(engine, "E-2")
    do(engine, first.instance_id, "verify", VALID)
    return first, second


def test_csv_holds_the_query_rows_with_callers_masked_and_no_read_record(engine, tickets, tmp_path):
    first, _ = tickets
    before = audit_rows(engine)
    result = export_audit(engine, AUDITOR, AuditFilter(ticket_id=first.ticket_id), tmp_path / "a.csv")
    lines = _csv(tmp_path / "a.csv")
    expected = [r for r in before if r.ticket_id == first.ticket_id]
    assert result.rows == len(lines) == len(expected) and result.unmasked_tickets == 0
    assert [int(line["记录编号"]) for line in lines] == [r.id for r in expected]
    assert [line["事件代码"] for line in lines] == [r.event for r in expected]
    # Masked, and guarded against spreadsheet formulas.
    callers = {(line["工单编号"], line["来电人"], line["来电号码"]) for line in lines}
    assert callers == {("E-1", "'=" + "*" * 12, "139****2222")}
    assert json.loads(lines[-1]["详情"]) == expected[-1].data
    assert _ids(engine) == [r.id for r in before] and not (tmp_path / "a.csv.part").exists()


def test_time_is_beijing_time(engine, tickets, tmp_path):
    export_audit(engine, AUDITOR, AuditFilter(event="ticket.received"), tmp_path / "t.csv")
    first_received = next(r for r in audit_rows(engine) if r.event == "ticket.received")
    assert first_received.at.hour == 1  # FakeClock: 01:00 UTC
    assert _csv(tmp_path / "t.csv")[0]["时间（北京时间）"] == first_received.at.strftime("%Y-%m-%d 09:%M:%S")


def test_unmasked_export_is_recorded_with_the_tickets_it_shows(engine, tickets, tmp_path):
    first, second = tickets
    result = export_audit(engine, AUDITING_INTAKE, AuditFilter(event="ticket.received"), tmp_path / "b.csv")
    lines = _csv(tmp_path / "b.csv")
    assert [(line["来电人"], line["来电号码"]) for line in lines] == [("'=HYPERLINK(1)", "13911112222"),
                                                                 ("张明", "13800138000")]
    record = audit_rows(engine)[-1]
    assert (record.event, record.actor, record.ticket_id) == ("personal_data.exported", AUDITING_INTAKE.name, None)
    assert record.data == {"format": "csv", "rows": 2, "fields": ["caller_name", "caller_phone"],
                           "ticket_ids": sorted([first.ticket_id, second.ticket_id])}
    assert result.unmasked_tickets == 2


def test_excel_export_keeps_formula_like_text_as_text(engine, tickets, tmp_path):
    export_audit(engine, AUDITING_INTAKE, AuditFilter(event="ticket.received"), tmp_path / "c.xlsx")
    sheet = load_workbook(tmp_path / "c.xlsx").active
    rows = list(sheet.iter_rows())
    assert [cell.value for cell in rows[0]] == HEADER
    name_cell = rows[1][HEADER.index("来电人")]
    assert (name_cell.value, name_cell.data_type) == ("=HYPERLINK(1)", "s")
    assert rows[2][HEADER.index("工单编号")].value == "E-2" and len(rows) == 3


def test_bad_file_type_and_wrong_role_are_refused_and_write_nothing(engine, tickets, tmp_path):
    before = _ids(engine)
    with pytest.raises(InvalidData, match=r"\.csv 或 \.xlsx"):
        export_audit(engine, AUDITOR, AuditFilter(), tmp_path / "d.pdf")
    with pytest.raises(Forbidden):
        export_audit(engine, INTAKE, AuditFilter(), tmp_path / "d.csv")
    assert list(tmp_path.iterdir()) == [] and _ids(engine) == before
