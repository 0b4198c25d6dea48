"""BPMN timers on the engine's clock.

SpiffWorkflow's timer definitions read `datetime.now()` themselves, so a test clock or a command's
single notion of "now" would not govern them. The parser here builds subclasses that read the
running command's time instead (engine.command_context); everything else about them is Spiff's.
The due time each waiting timer has computed is what engine.timers stores as a row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.parser.event_parsers import BoundaryEventParser, IntermediateCatchEventParser, StartEventParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.task import Task

from engine.command_context import current
from engine.workdays import LOCAL_TZ


def _now() -> datetime:
    return current().now


def moment(text: str) -> datetime:
    """An ISO date-time as a timer value; without a zone it is Beijing time, as staff write it."""
    value = datetime.fromisoformat(text)
    return (value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)).astimezone(UTC)


def _evaluate(task: Task, expression: str) -> str:
    value = task.workflow.script_engine.evaluate(task, expression)
    if not isinstance(value, str):
        raise WorkflowTaskException(f"定时器表达式 {expression} 应得出 ISO 8601 文本，实际是 {value!r}", task=task)
    return value


def _mark_fired(task: Task, due: datetime) -> bool:
    if due <= _now():
        task._set_internal_data(event_fired=True)
    return task._get_internal_data("event_fired", False)


class ClockedTimeDate(TimeDateEventDefinition):
    def has_fired(self, my_task: Task) -> bool:
        if my_task._get_internal_data("event_value") is None:
            value = _evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=_checked(my_task, value, moment).isoformat())
        return _mark_fired(my_task, moment(my_task._get_internal_data("event_value")))


class ClockedDuration(DurationTimerEventDefinition):
    def has_fired(self, my_task: Task) -> bool:
        if my_task._get_internal_data("event_value") is None:
            span = _checked(my_task, _evaluate(my_task, self.expression), self.parse_iso_duration)
            start = _now()
            my_task._set_internal_data(event_value=(start + self.get_timedelta_from_start(span, start)).isoformat())
        return _mark_fired(my_task, moment(my_task._get_internal_data("event_value")))


class ClockedCycle(CycleTimerEventDefinition):
    def cycle_complete(self, my_task: Task) -> bool:
        value = my_task._get_internal_data("event_value")
        if value is None:
            cycles, start, duration = _checked(my_task, _evaluate(my_task, self.expression), _parse_cycle)
            value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        if value["cycles"] == 0:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        following = datetime.fromisoformat(value["next"])
        ready = following <= _now()
        if ready:
            value["next"] = (following + timedelta(seconds=value["duration"])).isoformat()
            value["cycles"] -= 1
        my_task._set_internal_data(event_value=value)
        return ready


def _parse_cycle(expression: str) -> tuple[int, datetime, timedelta]:
    """R<n>/<duration>: first occurrence one duration after now; other forms as Spiff reads them."""
    parts = expression.upper().strip().split("/")
    if len(parts) == 2 and parts[1].startswith("P"):
        cycles = int(parts[0].lstrip("R")) if parts[0].lstrip("R") else -1
        start = _now()
        span = TimerEventDefinition.parse_iso_duration(parts[1])
        duration = TimerEventDefinition.get_timedelta_from_start(span, start)
        return cycles, start + duration, duration
    return TimerEventDefinition.parse_iso_recurring_interval(expression)


def _checked(task: Task, value: str, parse):
    try:
        return parse(value)
    except Exception as exc:  # Spiff's parsers raise bare Exception for bad input
        raise WorkflowTaskException(f"定时器的值 {value!r} 无法识别：{exc}", task=task) from exc


def is_timer(task: Task) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


def due_at(task: Task) -> datetime | None:
    """When a waiting timer task will fire, or None when it has nothing left to wait for."""
    value = task._get_internal_data("event_value")
    if value is None or task._get_internal_data("event_fired", False):
        return None
    if isinstance(value, dict):
        return datetime.fromisoformat(value["next"]).astimezone(UTC) if value["cycles"] != 0 else None
    return moment(value)


_CLOCKED = {TimeDateEventDefinition: ClockedTimeDate, DurationTimerEventDefinition: ClockedDuration,
            CycleTimerEventDefinition: ClockedCycle}


class _ClockedTimers:
    def parse_timer_event(self, event):
        parsed = super().parse_timer_event(event)
        return _CLOCKED[type(parsed)](parsed.name, parsed.expression, description=parsed.description)


class _StartParser(_ClockedTimers, StartEventParser):
    pass


class _CatchParser(_ClockedTimers, IntermediateCatchEventParser):
    pass


class _BoundaryParser(_ClockedTimers, BoundaryEventParser):
    pass


class ClockedParser(BpmnParser):
    """Spiff's parser, with timer events that read the engine's clock."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict] = {
        full_tag(tag): (parser, BpmnParser.PARSER_CLASSES[full_tag(tag)][1])
        for tag, parser in (("startEvent", _StartParser), ("intermediateCatchEvent", _CatchParser),
                            ("boundaryEvent", _BoundaryParser))
    }


# Serializer entries: the clocked definitions store exactly what Spiff's timer definitions store.
CONVERTERS = {cls: TimerConditionalEventDefinitionConverter for cls in _CLOCKED.values()}
