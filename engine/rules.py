"""Dated configuration: each entry takes effect on its date and overrides the ones before it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_RULES_FILE = Path(__file__).with_name("default_rules.json")


@dataclass(frozen=True)
class RuleEntry:
    effective: date
    values: dict[str, Any]


class Rules:
    """All rule entries, oldest first; `at(day)` gives the values in force that day."""

    def __init__(self, entries: list[RuleEntry]):
        self.entries = sorted(entries, key=lambda e: e.effective)

    @classmethod
    def load(cls, extra_file: str | Path | None = None) -> Rules:
        """Defaults, then the office's own file (JIESU_RULES_FILE) on top."""
        entries = _read(DEFAULT_RULES_FILE)
        extra = extra_file or os.environ.get("JIESU_RULES_FILE")
        if extra:
            entries += _read(Path(extra))
        return cls(entries)

    def at(self, day: date) -> dict[str, Any]:
        # The first entry is the baseline: it also answers for days before its own date.
        merged: dict[str, Any] = dict(self.entries[0].values)
        for entry in self.entries[1:]:
            if entry.effective <= day:
                merged = _deep_merge(merged, entry.values)
        return merged


def _read(path: Path) -> list[RuleEntry]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [RuleEntry(date.fromisoformat(e["effective"]), e["values"]) for e in raw]


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
