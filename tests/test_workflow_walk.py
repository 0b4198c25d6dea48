"""The engine's workflow class walks task trees exactly as SpiffWorkflow's own iterators do."""

from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine import state
from engine.deployments import latest_deployment_id
from engine.service import Engine
from engine.workflow import EngineWorkflow, _walk
from tests.conftest import FakeClock
from tests.helpers import audit_rows, receive, stored_workflow
from tests.ticket_paths import ALL_PATHS

# Every single state and every mask Spiff defines: each picks its own pruning depth in the walk.
MASKS = [state for state in TaskState.__dict__.values() if isinstance(state, int) and state > 0]


class _Checked:
    """Runs the engine's walks while comparing each with what Spiff's iterator gives at that moment."""

    def __init__(self) -> None:
        self.calls = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        fast_get_tasks, fast_update = EngineWorkflow.get_tasks, EngineWorkflow.update_waiting_tasks

        def get_tasks(workflow, first_task=None, **kwargs):
            self.check(workflow)
            found = fast_get_tasks(workflow, first_task, **kwargs)
            assert found == BpmnWorkflow.get_tasks(workflow, first_task, **kwargs)
            return found

        def update_waiting_tasks(workflow) -> None:
            self.check(workflow)
            fast_update(workflow)

        monkeypatch.setattr(EngineWorkflow, "get_tasks", get_tasks)
        monkeypatch.setattr(EngineWorkflow, "update_waiting_tasks", update_waiting_tasks)

    def check(self, workflow: EngineWorkflow) -> None:
        self.calls += 1
        for mask in MASKS:
            assert list(_walk(workflow.task_tree, mask)) == list(TaskIterator(workflow.task_tree, state=mask))


def test_every_walk_along_every_path_equals_spiffs(engine, monkeypatch):
    checked = _Checked()
    checked.install(monkeypatch)
    for number, path in enumerate(ALL_PATHS):
        ticket = receive(engine, f"WALK-{number}")
        path(engine, ticket.instance_id)
    assert checked.calls > 300  # the paths above ran through the checked walks, many times each


def test_a_tree_past_spiffs_depth_limit_is_walked_as_spiff_walks_it(engine):
    """Spiff's iterator stops 1,000 levels down; so does the engine's walk, by handing such trees to it."""
    with engine.db.read() as session:
        conn = session.connection()
        process = engine.deployments.get(conn, latest_deployment_id(conn, "ticket")).process
    workflow = state.new_workflow(process)
    task = workflow.task_tree
    for _ in range(1100):
        task = task._add_child(task.task_spec, TaskState.FUTURE)
    spiffs = list(TaskIterator(workflow.task_tree, state=TaskState.FUTURE))
    assert task not in spiffs  # the limit is really met here
    for mask in MASKS:
        assert list(_walk(workflow.task_tree, mask)) == list(TaskIterator(workflow.task_tree, state=mask))


def test_every_path_runs_as_on_spiffs_own_workflow_class(db, engine, monkeypatch):
    """Each path, run once with Spiff's walks and once with the engine's, leaves the same tasks in the
    same order, states and data, and the same audit trail."""
    with monkeypatch.context() as stock:
        stock.setattr(EngineWorkflow, "get_tasks", BpmnWorkflow.get_tasks)
        stock.setattr(EngineWorkflow, "update_waiting_tasks", BpmnWorkflow.update_waiting_tasks)
        spiffs = _run_paths(engine, "S")
    fast = Engine(db, clock=FakeClock())
    fast.deployments = engine.deployments
    ours = _run_paths(fast, "E")
    assert [shape for shape, _ in ours] == [shape for shape, _ in spiffs]
    assert [events for _, events in ours] == [events for _, events in spiffs]


def _run_paths(engine: Engine, prefix: str) -> list[tuple[list, list]]:
    runs = []
    for number, path in enumerate(ALL_PATHS):
        ticket = receive(engine, f"{prefix}-{number}")
        path(engine, ticket.instance_id)
        events = [(row.event, row.data.get("step")) for row in audit_rows(engine)
                  if row.instance_id == ticket.instance_id]
        runs.append((_shape(stored_workflow(engine, ticket.instance_id)), events))
    return runs


def _shape(workflow: BpmnWorkflow) -> list[tuple]:
    """The task tree in Spiff's order, with what each task holds except the ticket's own number."""
    return [(task.task_spec.name, task.state, {k: v for k, v in task.data.items() if k != "ticket_no"})
            for task in TaskIterator(workflow.task_tree)]
