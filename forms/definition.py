"""The shape of a form definition: a key, a Chinese title and typed fields."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

FIELD_TYPES = ("string", "text", "boolean", "integer", "choice", "multichoice", "list", "date", "datetime")


class FormDefinitionError(ValueError):
    """A form definition file is malformed."""


@dataclass(frozen=True)
class FieldDefinition:
    name: str
    label: str
    type: str
    required: bool = False
    required_if: tuple[tuple[str, Any], ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    default: Any = None
    max_length: int | None = None
    max_items: int | None = None
    min: int | None = None
    max: int | None = None
    pattern: str | None = None

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)


@dataclass(frozen=True)
class FormDefinition:
    key: str
    title: str
    fields: tuple[FieldDefinition, ...]
    description: str = ""

    def field(self, name: str) -> FieldDefinition:
        return next(f for f in self.fields if f.name == name)

    def to_dict(self) -> dict[str, Any]:
        """The definition as clients receive it (and as deployments store it)."""
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "fields": [_field_to_dict(f) for f in self.fields],
        }

    @classmethod
    def from_json(cls, text: str, source: str = "<form>") -> FormDefinition:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormDefinitionError(f"{source}: not valid JSON: {exc}") from exc
        return cls.from_dict(raw, source)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "<form>") -> FormDefinition:
        try:
            fields = tuple(_field_from_dict(f) for f in raw["fields"])
            form = cls(key=raw["key"], title=raw["title"], fields=fields,
                       description=raw.get("description", ""))
        except (KeyError, TypeError) as exc:
            raise FormDefinitionError(f"{source}: missing or malformed entry {exc}") from exc
        _check(form, source)
        return form


def _field_from_dict(raw: dict[str, Any]) -> FieldDefinition:
    choices = tuple((str(c[0]), str(c[1])) for c in raw.get("choices", ()))
    known = {k: raw[k] for k in ("required", "default", "max_length", "max_items", "min", "max", "pattern") if k in raw}
    return FieldDefinition(name=raw["name"], label=raw["label"], type=raw["type"], choices=choices,
                           required_if=tuple(raw.get("required_if", {}).items()), **known)


def _field_to_dict(f: FieldDefinition) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "label": f.label, "type": f.type, "required": f.required}
    if f.choices:
        out["choices"] = [list(c) for c in f.choices]
    if f.required_if:
        out["required_if"] = dict(f.required_if)
    for key in ("default", "max_length", "max_items", "min", "max", "pattern"):
        if getattr(f, key) is not None:
            out[key] = getattr(f, key)
    return out


def _check(form: FormDefinition, source: str) -> None:
    names = [f.name for f in form.fields]
    if len(set(names)) != len(names):
        raise FormDefinitionError(f"{source}: duplicate field names")
    for f in form.fields:
        if f.type not in FIELD_TYPES:
            raise FormDefinitionError(f"{source}: field {f.name!r} has unknown type {f.type!r}")
        if f.type in ("choice", "multichoice") and not f.choices:
            raise FormDefinitionError(f"{source}: field {f.name!r} needs choices")
        for other, _ in f.required_if:
            if other not in names:
                raise FormDefinitionError(f"{source}: field {f.name!r} depends on unknown field {other!r}")
