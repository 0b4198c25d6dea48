"""Ticket intake: fields of a 12345 ticket, idempotent by ticket number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import DuplicateTicket, InvalidData
from tests.helpers import audit_rows, open_task, receive, snapshot, ticket_fields, ticket_row


def test_intake_stores_fields_and_opens_verification(engine):
    ticket = receive(engine, tags=["噪音"], category_l1="城市管理", request_type="投诉", sla_level="24h")
    assert ticket.created
    row = ticket_row(engine, ticket.ticket_id)
    assert row.received_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert (row.caller_name, row.caller_phone, row.source) == ("张明", "13800138000", "hotline")
    assert (row.sla_level, row.tags, row.status, row.current_step) == ("24h", ["噪音"], "open", "核实")
    assert ticket.open_tasks == (open_task(engine, ticket.instance_id, "verify").id,)


def test_time_without_offset_is_beijing_time(engine):
    ticket = receive(engine, received_at="2026-11-20 09:00")
    assert ticket_row(engine, ticket.ticket_id).received_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def test_same_number_same_content_returns_the_existing_ticket(engine):
    first = receive(engine)
    rows = len(audit_rows(engine))
    second = receive(engine)
    assert not second.created
    assert (second.ticket_id, second.instance_id, second.open_tasks) == (first.ticket_id, first.instance_id,
                                                                          first.open_tasks)
    assert len(audit_rows(engine)) == rows


def test_same_number_different_content_is_refused(engine):
    receive(engine)
    before = snapshot(engine)
    with pytest.raises(DuplicateTicket) as err:
        receive(engine, content="另一件事")
    assert "T-0001" in err.value.message
    assert snapshot(engine) == before


@pytest.mark.parametrize(("overrides", "field"), [
    ({"ticket_no": ""}, "ticket_no"),
    ({"ticket_no": "<script>alert(1)</script>"}, "ticket_no"),
    ({"source": "fax"}, "source"),
    ({"received_at": "昨天"}, "received_at"),
    ({"caller_phone": "call me"}, "caller_phone"),
    ({"content": "长" * 5001}, "content"),
    ({"sla_level": "3d"}, "sla_level"),
])
def test_invalid_intake_names_the_field_and_stores_nothing(engine, overrides, field):
    before = snapshot(engine)
    with pytest.raises(InvalidData) as err:
        engine.intake(ticket_fields(**overrides), None)
    assert field in err.value.field_errors
    assert snapshot(engine) == before


def test_missing_required_fields(engine):
    with pytest.raises(InvalidData) as err:
        engine.intake({"ticket_no": "X-1"}, None)
    assert set(err.value.field_errors) == {"source", "received_at", "address", "content"}


def test_personal_data_stays_out_of_the_audit_trail(engine):
    receive(engine)
    for row in audit_rows(engine):
        assert "13800138000" not in str(row.data) and "张明" not in str(row.data)


def test_received_in_the_future_is_refused_and_old_tickets_use_the_baseline_rules(engine, clock):
    with pytest.raises(InvalidData) as err:
        receive(engine, "F-1", received_at=(clock.now.replace(year=2027)).isoformat())
    assert err.value.field_errors == {"received_at": ["来电时间不能晚于当前时间。"]}
    assert receive(engine, "OLD-1", received_at="2001-05-01T09:00:00+08:00").created


def test_blank_required_text_is_missing(engine):
    with pytest.raises(InvalidData) as err:
        receive(engine, "B-1", address="", content="")
    assert err.value.field_errors == {"address": ["此项为必填项。"], "content": ["此项为必填项。"]}
