"""What BPMN expressions and timers may know about the command that runs them.

SpiffWorkflow calls timer definitions and scripts deep inside `do_engine_steps`, with no way to pass
the engine along; a context variable carries the engine's clock reading and rules for the duration
of one command (per thread, so concurrent commands never see each other's).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from engine.clock import system_clock
from engine.rules import Rules
from engine.workdays import WorkingCalendar


@dataclass
class Notice:
    """A message to people (urge, reminder, escalation), written with the command that raised it."""

    kind: str
    recipients: list[str]
    text: str


@dataclass(frozen=True)
class AlertRequest:
    """Alert the people on duty about an incident: at `level`, or (None) one level above the last round;
    or, with `acknowledged`, record that the person running the command acknowledged the alerts."""

    incident_id: int
    level: int | None = None
    acknowledged: bool = False


@dataclass
class CommandContext:
    now: datetime
    rules: Rules
    notices: list[Notice] = field(default_factory=list)
    alerts: list[AlertRequest] = field(default_factory=list)

    @cached_property
    def values(self) -> dict[str, Any]:
        """The rules in force on the command's day."""
        return self.rules.at(self.now.date())

    @cached_property
    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.values.get("office_closures", ()))


_CURRENT: ContextVar[CommandContext | None] = ContextVar("jiesu_command", default=None)


@contextmanager
def active(now: datetime, rules: Rules) -> Iterator[CommandContext]:
    context = CommandContext(now, rules)
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def current() -> CommandContext:
    """The running command's context; outside the engine (a workflow run in memory) the real clock."""
    return _CURRENT.get() or CommandContext(system_clock(), _default_rules())


@lru_cache(maxsize=1)
def _default_rules() -> Rules:
    return Rules.load()
