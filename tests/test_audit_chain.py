"""The hash chain: verifies after real work, and names the first row that was edited, deleted or moved."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from engine import audit
from engine.audit import AuditEntry
from engine.audit_verify import verify_chain, verify_trail
from engine.db import Database
from engine.errors import Forbidden
from engine.models import AuditEvent
from engine.service import Engine
from tests.conftest import ADMIN, INTAKE, FakeClock, unguarded_audit
from tests.helpers import VALID, audit_rows, do, finish, receive, to_handling

_AUDIT = AuditEvent.__table__


def verify_chain_of(engine: Engine, batch: int = 7):
    with engine.db.engine.connect() as conn:
        return verify_chain(conn, batch=batch)


def _mixed_run(engine: Engine, clock: FakeClock, tickets: int) -> None:
    for n in range(tickets):
        ticket = receive(engine, f"MIX-{n}")
        clock.advance(minutes=3)
        if n % 4 == 0:
            engine.cancel(ticket.instance_id, "重复来电", ADMIN)
            continue
        to_handling(engine, ticket.instance_id)
        engine.view_ticket(f"MIX-{n}", INTAKE)
        if n % 4 == 1:
            finish(engine, ticket.instance_id)
        clock.advance(minutes=7)


def test_chain_verifies_after_a_long_mixed_run_in_small_batches(engine, clock):
    _mixed_run(engine, clock, 12)
    rows = audit_rows(engine)
    report = verify_chain_of(engine)
    assert report.ok and report.problem is None
    assert report.checked == len(rows) > 100
    assert (report.head_id, report.head_hash) == (rows[-1].id, rows[-1].hash)


def test_empty_trail_verifies(db):
    with db.engine.connect() as conn:
        report = verify_chain(conn)
    assert report.ok and report.checked == 0 and report.head_id is None


def test_time_given_in_another_zone_is_hashed_as_stored(engine):
    beijing = timezone(timedelta(hours=8))
    with engine.db.transaction() as conn:
        audit.append(conn, [AuditEntry("login.succeeded", "受理员王")], datetime(2026, 11, 20, 9, 0, tzinfo=beijing))
    assert verify_chain_of(engine).ok
    assert audit_rows(engine)[-1].at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("statement", [update(_AUDIT).values(actor="某人"), delete(_AUDIT)])
def test_the_database_refuses_to_change_or_delete_audit_rows(engine, statement):
    before = [(r.id, r.hash) for r in audit_rows(engine)]
    with pytest.raises(DBAPIError, match="append-only"), engine.db.transaction() as conn:
        conn.execute(statement)
    assert [(r.id, r.hash) for r in audit_rows(engine)] == before


@pytest.fixture
def trail(engine, clock):
    _mixed_run(engine, clock, 3)
    return [row.id for row in audit_rows(engine)]


def test_edited_row_is_named(engine, trail):
    target = trail[10]
    with engine.db.engine.begin() as conn, unguarded_audit(conn):
        conn.execute(update(_AUDIT).where(_AUDIT.c.id == target).values(actor="某人"))
    report = verify_chain_of(engine)
    assert report.broken_id == target and "被修改" in report.problem
    assert report.checked == 10 and report.head_id == trail[9]


def test_edited_row_with_recomputed_hash_breaks_the_next_link(engine, trail):
    target = trail[10]
    with engine.db.engine.begin() as conn, unguarded_audit(conn):
        row = conn.execute(select(_AUDIT).where(_AUDIT.c.id == target)).one()
        forged = AuditEntry(row.event, "某人", row.ticket_id, row.instance_id, row.task_id, row.data)
        conn.execute(update(_AUDIT).where(_AUDIT.c.id == target)
                     .values(actor="某人", hash=audit.row_hash(row.prev_hash, row.at, forged)))
    report = verify_chain_of(engine)
    assert report.broken_id == trail[11] and f"第 {target} 条" in report.problem


@pytest.mark.parametrize("position", [0, 5, 13])
def test_deleted_row_is_found_at_the_row_after_it(engine, trail, position):
    with engine.db.engine.begin() as conn, unguarded_audit(conn):
        conn.execute(delete(_AUDIT).where(_AUDIT.c.id == trail[position]))
    report = verify_chain_of(engine)
    assert report.broken_id == trail[position + 1] and "删除" in report.problem


def test_swapped_rows_are_found(engine, trail):
    first, second = trail[6], trail[8]
    with engine.db.engine.begin() as conn, unguarded_audit(conn):
        rows = {r.id: r._asdict() for r in conn.execute(select(_AUDIT).where(_AUDIT.c.id.in_([first, second])))}
        # Through a placeholder: the hash column is unique.
        conn.execute(update(_AUDIT).where(_AUDIT.c.id == first).values(hash="x"))
        for target, source in ((second, first), (first, second)):
            values = {k: v for k, v in rows[source].items() if k != "id"}
            conn.execute(update(_AUDIT).where(_AUDIT.c.id == target).values(values))
    report = verify_chain_of(engine)
    assert report.broken_id == first and "调换" in report.problem


def test_concurrent_writers_each_with_their_own_engine_keep_one_chain(engine, database_url, clock):
    """Threads on separate connections: the chain lock orders "read last hash, insert" until commit."""
    writers, tickets_each = 4, 3
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def work(number: int) -> None:
        own = Engine(Database(database_url), clock=FakeClock(clock.now))
        try:
            start.wait()
            for n in range(tickets_each):
                ticket = receive(own, f"CC-{number}-{n}")
                do(own, ticket.instance_id, "verify", VALID)
                own.view_ticket(f"CC-{number}-{n}", INTAKE)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.db.dispose()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_chain_of(engine)
    rows = audit_rows(engine)
    received = [r for r in rows if r.event == "ticket.received"]
    assert report.ok and report.checked == len(rows) and len(received) == writers * tickets_each


def test_a_cut_off_end_is_found_against_a_recorded_head(engine, trail):
    report = verify_trail(engine, ADMIN)
    anchor = (report.head_id, report.head_hash)
    assert verify_trail(engine, ADMIN, anchor).ok
    with engine.db.engine.begin() as conn, unguarded_audit(conn):
        conn.execute(delete(_AUDIT).where(_AUDIT.c.id >= trail[-3]))
    assert verify_chain_of(engine).ok  # a shorter chain is still a valid chain...
    cut = verify_trail(engine, ADMIN, anchor)
    assert cut.broken_id == trail[-1] and "末尾被截掉" in cut.problem  # ...but not the one recorded
    changed = verify_trail(engine, ADMIN, (trail[0], "0" * 64))
    assert changed.broken_id == trail[0] and "被改写" in changed.problem


def test_only_audit_rolesverify_chain_of(engine):
    with pytest.raises(Forbidden):
        verify_trail(engine, INTAKE)
