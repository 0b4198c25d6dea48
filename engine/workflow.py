"""The engine's BpmnWorkflow: Spiff's task-tree walks of every command done by a plain loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState

# Spiff's TaskIterator stops descending at this depth (its default max_depth).
_MAX_DEPTH = 1000


class EngineWorkflow(BpmnWorkflow):
    """A BpmnWorkflow whose two hot walks skip Spiff's general-purpose iterator.

    Every engine step asks for the READY tasks, and every completed task updates the WAITING ones:
    Spiff walks the whole task tree with a filter object and list splicing for both, about 40% of
    its time in a ticket's lifecycle. `_walk` visits the same tasks in the same order; other
    queries, and workflows with subprocesses (whose trees Spiff's BPMN iterator joins in), go to
    Spiff's iterator as before.
    """

    def get_tasks(self, first_task: Task | None = None, **kwargs: Any) -> list[Task]:
        if first_task is None and not self.subprocesses and len(kwargs) == 1 and "state" in kwargs:
            return list(_walk(self.task_tree, kwargs["state"]))
        return super().get_tasks(first_task, **kwargs)

    def update_waiting_tasks(self) -> None:
        # Spiff's own walk here never enters subprocesses, so neither does this one. Lazy, as
        # Spiff's is: an update may change tasks the walk has not reached yet.
        for task in _walk(self.task_tree, TaskState.WAITING):
            task.task_spec._update(task)


def _walk(root: Task, states: int) -> Iterator[Task]:
    """Spiff's depth-first TaskIterator with only a state filter, as a plain stack.

    Like Spiff, a task's children are taken when the task is reached, and not taken below a task in
    a state that cannot lead to a wanted one (see TaskIterator.__init__). Spiff also stops at depth
    1000, which only a tree of more tasks than that can reach: such a tree goes to Spiff's iterator.
    """
    tasks = root.workflow.tasks
    if len(tasks) > _MAX_DEPTH:
        yield from TaskIterator(root, state=states)
        return
    if states & TaskState.PREDICTED_MASK:
        least = TaskState.MAYBE
    elif states & TaskState.DEFINITE_MASK:
        least = TaskState.FUTURE
    else:
        least = TaskState.COMPLETED
    stack = [root]
    while stack:
        task = stack.pop()
        if task._children and task._state >= least:
            kept = getattr(task, "_jiesu_children", None)
            if kept is None or kept[0] != task._children:
                kept = _keep_children(task, tasks)
            stack += kept[1]
        if task._state & states:
            yield task


def _keep_children(task: Task, tasks: dict) -> tuple[list, list[Task]]:
    """The task's child ids and, last first, its children, kept on it for as long as the ids are the same.

    Looking a child up by id hashes a UUID, in Python: most of a walk's time. Comparing the ids with
    those kept compares the very same objects, which takes no call into UUID.
    """
    kept = task._jiesu_children = (list(task._children), [tasks.get(child) for child in reversed(task._children)])
    return kept
