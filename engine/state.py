"""Workflow state as JSON without the process spec, which lives once in its deployment."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from threading import Lock
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import ParsedProcess
from engine.scripting import restricted_script_engine
from engine.timer_events import CONVERTERS
from engine.workflow import EngineWorkflow

SCRIPT_ENGINE = restricted_script_engine()
_SETTLED = TaskState.COMPLETED | TaskState.CANCELLED


class _StateConverter(BpmnWorkflowConverter):
    """The stock converter writes the whole spec into every state; ours writes only the run."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = _run_dict(self.registry, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], process: ParsedProcess) -> BpmnWorkflow:
        workflow = EngineWorkflow(process.spec, process.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _SubprocessConverter(BpmnSubWorkflowConverter):
    def to_dict(self, workflow: BpmnSubWorkflow) -> dict[str, Any]:
        return _run_dict(self.registry, workflow) | {"parent_task_id": str(workflow.parent_task_id),
                                                      "spec": workflow.spec.name}


class _TaskConverter(TaskConverter):
    """Restores as Spiff does; dumping goes through `_task_dict`."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        return _task_dict(task, _ids(task.workflow))


def _run_dict(registry: DefaultRegistry, workflow: BpmnSubWorkflow) -> dict[str, Any]:
    """Spiff's WorkflowConverter.to_dict, with the task map built by `_task_dict` directly.

    Going through the registry costs a dispatch, a dict update and a string conversion of every id
    for every task, settled or not, at every command.
    """
    ids = _ids(workflow)
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": _sid(ids, workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": {dct["id"]: dct for dct in [_task_dict(task, ids) for task in workflow.tasks.values()]},
        "root": _sid(ids, workflow.task_tree.id),
    }


def _ids(workflow: BpmnSubWorkflow) -> dict[UUID, str]:
    """The workflow's task ids as strings: converting a UUID costs several times a lookup.

    What the engine keeps on Spiff's objects is read with getattr, never through `__dict__`: reading
    an object's `__dict__` makes Python 3.11 build a real dict for it, and from then on every attribute
    access on it, Spiff's own included, takes a slower path (0.3 ms per lifecycle in bench/lifecycle.py).
    """
    ids = getattr(workflow, "_jiesu_ids", None)
    if ids is None:
        ids = workflow._jiesu_ids = {}
    return ids


def _sid(ids: dict[UUID, str], uid: UUID) -> str:
    text = ids.get(uid)
    if text is None:
        text = ids[uid] = str(uid)
    return text


def _task_dict(task: Task, ids: dict[UUID, str]) -> dict[str, Any]:
    """A task's stored dict. Its data is stored as top-level changes against its parent's.

    Spiff restores a delta with `data.update(updates)`, so top-level keys are all it needs; comparing
    top-level values is much cheaper than Spiff's recursive diff and restores the same data. Empty data
    (every predicted task's) is stored as such, needing nothing of the parent's.
    A completed or cancelled task no longer changes, nor does an empty one until it changes state:
    their dicts are kept on them, so each command converts only the few tasks that moved.
    """
    frozen = task._state & _SETTLED or not (task.data or task.internal_data)
    if frozen:
        key = _memo_key(task)
        kept = getattr(task, "_jiesu_dict", None)
        if kept is not None and kept[0] == key:
            return kept[1]
    parent, data, delta = task.parent, task.data, {}
    if parent is not None:
        parent_data = parent.data
        if data:
            delta = {"updates": {k: v for k, v in data.items() if k not in parent_data or parent_data[k] != v},
                     "deletions": [k for k in parent_data if k not in data]}
        data = {}
    dct = {
        "id": _sid(ids, task.id),
        "parent": None if parent is None else _sid(ids, task._parent),
        "children": [_sid(ids, child) for child in task._children],
        "last_state_change": task.last_state_change,
        "state": task.state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": _SERIALIZER.registry.convert(task.internal_data) if task.internal_data else {},
        "data": data,
        "delta": delta,
        "typename": _TASK_TYPENAME,
    }
    if frozen:
        task._jiesu_dict = (key, dct)
    return dct


_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(
    {**DEFAULT_CONFIG, **CONVERTERS, BpmnWorkflow: _StateConverter,
     BpmnSubWorkflow: _SubprocessConverter, Task: _TaskConverter}))
_TASK_TYPENAME = _SERIALIZER.registry.typenames[Task]
# Stored states name Spiff's class, whichever the engine runs: they stay readable by Spiff alone.
_SERIALIZER.registry.typenames[EngineWorkflow] = _SERIALIZER.registry.typenames[BpmnWorkflow]
# Forms give dates (date fields) as well as datetimes; Spiff registers only the latter.
_SERIALIZER.registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME  # dates and datetimes go through Spiff's typed conversion


def new_workflow(process: ParsedProcess) -> BpmnWorkflow:
    return EngineWorkflow(process.spec, process.subprocess_specs, script_engine=SCRIPT_ENGINE)


def tasks_in(workflow: BpmnWorkflow, states: int) -> list[Task]:
    """Tasks of the workflow and its subprocesses in any of `states`.

    Spiff's get_tasks walks the task tree with a general-purpose iterator; commands ask this several
    times each, and a scan of the task maps finds the same tasks several times faster.
    """
    found = [task for task in workflow.tasks.values() if task.state & states]
    for subprocess in workflow.subprocesses.values():
        found += [task for task in subprocess.tasks.values() if task.state & states]
    return found


def dump(workflow: BpmnWorkflow) -> str:
    registry = _SERIALIZER.registry
    registry._encoder_mode = True  # convert custom types on the fly instead of a second pass
    try:
        dct = _SERIALIZER.to_dict(workflow)
        dct[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
        return orjson.dumps(dct, default=_encode_other, option=_ORJSON_OPTIONS).decode("utf-8")
    finally:
        registry._encoder_mode = False


def _encode_other(value: Any) -> Any:
    """What orjson does not know: Spiff's typed values (datetime, timedelta), sets; callables drop out."""
    typename = _SERIALIZER.registry.typenames.get(type(value))
    if typename is not None:
        return _SERIALIZER.registry.convert_to_dict[typename](value)
    if isinstance(value, set):
        return list(value)
    if callable(value):
        return None
    raise TypeError(f"task data holds a {type(value).__name__}, which cannot be stored")


def load(text: str, process: ParsedProcess) -> BpmnWorkflow:
    dct = orjson.loads(text)
    _SERIALIZER.migrate(dct)
    stored = {None: dct["tasks"]} | {UUID(sp): sub["tasks"] for sp, sub in dct["subprocesses"].items()}
    workflow = _SERIALIZER.registry.restore(dct, process=process)  # restoring reads the task dicts, never edits
    workflow.script_engine = SCRIPT_ENGINE
    for key, tasks in stored.items():
        _keep_settled(workflow if key is None else workflow.subprocesses[key], tasks)
    return workflow


def _keep_settled(workflow: BpmnWorkflow, stored: dict[str, dict[str, Any]]) -> None:
    """A settled task dumps as it was stored: keep its stored dict, so the next dump converts only the rest."""
    for task in workflow.tasks.values():
        if task.state & _SETTLED:
            task._jiesu_dict = (_memo_key(task), stored[str(task.id)])


def _memo_key(task: Task) -> tuple:
    """What notices a reset, a state change or re-predicted children."""
    return task._state, task.last_state_change, task.triggered, tuple(task._children)


class WorkflowCache:
    """Workflows this process wrote last, keyed by instance and version.

    A hit is only used when the stored version still matches, so another node's writes are
    never hidden; a command that fails evicts its entry because Spiff mutates in place.
    """

    def __init__(self, size: int = 512):
        self._size = size
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = Lock()

    def get(self, instance_id: int, version: int) -> BpmnWorkflow | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item is None:
            return None
        if item[0] != version:  # another node wrote since: the caller loads the stored state
            discard(item[1])
            return None
        return item[1]

    def put(self, instance_id: int, version: int, workflow: BpmnWorkflow) -> None:
        with self._lock:
            replaced = self._items.pop(instance_id, None)
            self._items[instance_id] = (version, workflow)
            evicted = [item[1] for item in (replaced,) if item and item[1] is not workflow]
            while len(self._items) > self._size:
                evicted.append(self._items.popitem(last=False)[1][1])
        for old in evicted:
            discard(old)


def discard(workflow: BpmnWorkflow) -> None:
    """Break the reference cycles of a workflow nobody uses any more, so that it is freed at once.

    A workflow and its tasks point at each other; dropped as they are, they wait for a full garbage
    collection, whose pause grows with what waits (~40 ms with every request stopped, seen under load
    in bench/api.py). Only for workflows no command holds: the cache hands each one to one command.
    """
    for sub in list(workflow.subprocesses.values()):
        _clear(sub)
    _clear(workflow)


def _clear(workflow: BpmnWorkflow) -> None:
    for task in workflow.tasks.values():
        task.__dict__.clear()
    workflow.__dict__.clear()
