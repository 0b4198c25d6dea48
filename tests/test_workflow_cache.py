"""The per-process workflow cache: one command at a time holds a workflow; what leaves it is freed at once."""

from __future__ import annotations

import gc

from engine.state import WorkflowCache
from tests.helpers import finish, instance_row, receive, stored_workflow, to_handling


def workflows(engine, count: int) -> list[tuple[int, object]]:
    return [(r.instance_id, stored_workflow(engine, r.instance_id))
            for r in (receive(engine, f"C-{n}") for n in range(count))]


def test_least_recently_used_workflow_is_evicted_and_taken_apart(engine):
    cache = WorkflowCache(size=2)
    (a, wa), (b, wb), (c, wc) = workflows(engine, 3)
    cache.put(a, 1, wa)
    cache.put(b, 1, wb)
    cache.put(c, 1, wc)
    assert cache.get(a, 1) is None
    assert wa.__dict__ == {}  # its cycles broken: freed by reference counting, not by a long collection
    assert cache.get(b, 1) is wb and cache.get(c, 1) is wc
    assert cache.get(b, 1) is None  # handed out: a second command on it loads its own copy


def test_stale_version_is_dropped_and_a_dropped_workflow_leaves_no_cyclic_garbage(engine):
    (a, wa), = workflows(engine, 1)
    cache = WorkflowCache()
    cache.put(a, 1, wa)
    del wa
    gc.collect()
    gc.disable()
    try:
        assert cache.get(a, 2) is None
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_workflow_dropped_without_the_cache_is_cyclic_garbage(engine):
    """The reason for taking evicted workflows apart; if Spiff stops making cycles, this can go."""
    (_, wa), = workflows(engine, 1)
    gc.collect()
    gc.disable()
    try:
        del wa
        assert gc.collect() > 0
    finally:
        gc.enable()


def test_running_workflows_stay_cached_and_finished_ones_go(engine):
    running, done = receive(engine, "K-1"), receive(engine, "K-2")
    for ticket in (running, done):
        to_handling(engine, ticket.instance_id)
    finish(engine, done.instance_id)
    assert instance_row(engine, done.instance_id).status == "completed"
    for ticket, cached in ((running, True), (done, False)):
        version = instance_row(engine, ticket.instance_id).version
        assert (engine.workflows.get(ticket.instance_id, version) is not None) == cached
