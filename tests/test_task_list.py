"""Task lists: every filter shape gives the open tasks it covers, earliest deadline first, a page at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import queries
from engine.models import TaskRecord
from tests.conftest import INTAKE
from tests.helpers import DISPATCH, REGISTER, SCREEN_OK, VALID, do, open_task, receive

# Steps each ticket is driven through, so its open task is of another role, with or without a deadline.
PATHS = {
    "L-1": [],  # verify (intake)
    "L-2": [("verify", VALID), ("screen", SCREEN_OK)],  # dispatch (dispatcher)
    "L-3": [("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH)],  # sign_for (unit, due)
    "L-4": [("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH), ("sign_for", {"accepted": True}),
            ("register", REGISTER)],  # handle (unit, due)
    "L-5": [],  # verify (intake), claimed
}


@pytest.fixture
def listed(engine, clock):
    for ticket_no, steps in PATHS.items():
        clock.advance(minutes=1)
        instance_id = receive(engine, ticket_no).instance_id
        for step, data in steps:
            clock.advance(minutes=1)  # one creation time per task: the expected order has no ties
            do(engine, instance_id, step, data)
    engine.claim(open_task(engine, instance_id, "verify").id, INTAKE)
    return engine


@pytest.mark.parametrize("roles", [None, {"intake"}, {"unit"}, {"intake", "dispatcher"}, {"unit", "dispatcher"},
                                   set()])
@pytest.mark.parametrize("assignee", [None, INTAKE.name])
@pytest.mark.parametrize("limit", [2, 10])
def test_every_filter_shape_lists_its_open_tasks_earliest_deadline_first(listed, roles, assignee, limit):
    flt = queries.TaskFilter(roles=None if roles is None else frozenset(roles), assignee=assignee, limit=limit)
    with listed.db.read() as session:
        rows = queries.open_tasks(session, flt)
        every = session.scalars(select(TaskRecord).where(TaskRecord.state == "open")).all()
    expected = sorted((t for t in every if (roles is None or t.role in roles) and assignee in (None, t.assignee)),
                      key=lambda t: (t.deadline_order, t.created_at))[:limit]
    assert [row["id"] for row in rows] == [t.id for t in expected]
    assert all(row["ticket_no"] and row["instance_version"] for row in rows)


def test_the_list_covers_every_role_and_deadline(listed):
    with listed.db.read() as session:
        rows = queries.open_tasks(session, queries.TaskFilter())
    assert [(row["step"], row["due_at"] is not None) for row in rows] == [
        ("sign_for", True), ("handle", True), ("verify", False), ("dispatch", False), ("verify", False)]
