"""Audit queries: each filter, keyset pages that stay right while rows keep arriving, access and bad input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.audit_query import AuditFilter, audit_page, count, head_id, ticket_id_for
from engine.errors import Forbidden, InvalidData, NotFound
from engine.privacy import Actor
from tests.conftest import ADMIN, DISPATCHER, INTAKE
from tests.helpers import DISPATCH, REGISTER, REPLY, SCREEN_OK, VALID, audit_rows, do, open_task, receive, to_handling

AUDITOR = Actor("审计员周", frozenset({"auditor"}))


def _all(engine, flt: AuditFilter, limit: int = 5, newest_first: bool = False) -> list[int]:
    ids, after = [], None
    while True:
        page = audit_page(engine, AUDITOR, flt, after, limit, newest_first)
        ids += [row["id"] for row in page.rows]
        if not page.has_more:
            return ids
        after = page.next_after


@pytest.fixture
def worked(engine, clock):
    first = receive(engine, "Q-1")
    clock.advance(hours=1)
    second = receive(engine, "Q-2")
    clock.advance(hours=1)
    to_handling(engine, first.instance_id)
    engine.claim(open_task(engine, second.instance_id, "verify").id, INTAKE)
    clock.advance(hours=1)
    do(engine, second.instance_id, "verify", VALID)
    clock.advance(hours=1)
    return first, second


def test_each_filter_returns_exactly_its_rows(engine, clock, worked):
    first, second = worked
    rows = audit_rows(engine)
    task = next(r.task_id for r in rows if r.event == "task.claimed")
    start = rows[0].at + timedelta(hours=1)
    end = start + timedelta(hours=1)
    cases = [
        (AuditFilter(ticket_id=first.ticket_id), lambda r: r.ticket_id == first.ticket_id),
        (AuditFilter(instance_id=second.instance_id), lambda r: r.instance_id == second.instance_id),
        (AuditFilter(task_id=task), lambda r: r.task_id == task),
        (AuditFilter(actor=DISPATCHER.name), lambda r: r.actor == DISPATCHER.name),
        (AuditFilter(event="task.completed"), lambda r: r.event == "task.completed"),
        (AuditFilter(since=start, until=end), lambda r: start <= r.at < end),
        (AuditFilter(actor=INTAKE.name, event="task.opened", since=start),
         lambda r: r.actor == INTAKE.name and r.event == "task.opened" and r.at >= start),
    ]
    for flt, keep in cases:
        expected = [r.id for r in rows if keep(r)]
        assert expected, flt
        assert _all(engine, flt) == expected, flt
        assert _all(engine, flt, newest_first=True) == expected[::-1], flt
        with engine.db.engine.connect() as conn:
            assert count(conn, flt, head_id(conn)) == len(expected)
            assert count(conn, flt, expected[0]) == 1


def test_rows_carry_ticket_number_and_label(engine, worked):
    first, _ = worked
    page = audit_page(engine, AUDITOR, AuditFilter(ticket_id=first.ticket_id, event="ticket.received"))
    [row] = page.rows
    assert (row["ticket_no"], row["event_label"], row["actor"]) == ("Q-1", "接收工单", INTAKE.name)
    assert "caller_phone" not in row["data"] and "caller_name" not in row["data"]


def test_time_range_in_beijing_time_matches_utc_rows(engine, worked):
    rows = audit_rows(engine)
    beijing = rows[1].at.astimezone(timezone(timedelta(hours=8)))
    flt = AuditFilter(since=beijing, until=beijing + timedelta(seconds=1))
    assert _all(engine, flt) == [r.id for r in rows if r.at == rows[1].at]


def test_pages_stay_right_while_rows_arrive(engine, worked):
    _, second = worked
    flt = AuditFilter(ticket_id=second.ticket_id)
    steps = iter([("screen", SCREEN_OK), ("dispatch", DISPATCH), ("sign_for", {"accepted": True}),
                  ("register", REGISTER), ("handle", REPLY)])

    def ticket_ids() -> list[int]:
        return [r.id for r in audit_rows(engine) if r.ticket_id == second.ticket_id]

    def write_more() -> bool:
        """Rows on this ticket (while steps last) and on another one, between two page reads."""
        engine.view_ticket("Q-1", INTAKE)
        step = next(steps, None)
        if step is not None:
            do(engine, second.instance_id, *step)
        return step is not None

    at_start, newest, after = ticket_ids(), [], None
    while True:
        page = audit_page(engine, AUDITOR, flt, after, 3, newest_first=True)
        newest += [row["id"] for row in page.rows]
        write_more()
        if not page.has_more:
            break
        after = page.next_after
    assert newest == at_start[::-1]  # what was there when paging began, none twice, none skipped

    oldest, after = [], None
    while True:
        page = audit_page(engine, AUDITOR, flt, after, 3, newest_first=False)
        oldest += [row["id"] for row in page.rows]
        after = page.next_after
        if not write_more() and not page.has_more:
            break
    final = ticket_ids()
    assert len(final) > len(at_start) + 8
    assert oldest == final  # oldest first also picks up rows that arrived meanwhile, each once


def test_only_audit_roles_read_the_trail(engine, worked):
    assert audit_page(engine, ADMIN, AuditFilter()).rows
    with pytest.raises(Forbidden, match="审计员"):
        audit_page(engine, INTAKE, AuditFilter())


@pytest.mark.parametrize(("flt", "limit", "message"), [
    (AuditFilter(), 0, "每页条数"),
    (AuditFilter(), 1001, "每页条数"),
    (AuditFilter(since=datetime(2026, 11, 20)), 10, "时区"),
    (AuditFilter(since=datetime.fromisoformat("2026-11-21T00:00+08:00"),
                 until=datetime.fromisoformat("2026-11-20T00:00+08:00")), 10, "开始时间"),
])
def test_bad_query_is_refused_in_chinese(engine, flt, limit, message):
    with pytest.raises(InvalidData, match=message):
        audit_page(engine, AUDITOR, flt, limit=limit)


def test_unknown_ticket_number(engine):
    with engine.db.engine.connect() as conn, pytest.raises(NotFound, match="工单 NOPE 不存在"):
        ticket_id_for(conn, "NOPE")
