"""Turns a form definition into a marshmallow schema and validates submitted data."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema
from marshmallow import validate as mv

from forms.definition import FieldDefinition, FormDefinition

SHANGHAI = ZoneInfo("Asia/Shanghai")

MESSAGES = {
    "required": "此项为必填项。",
    "null": "此项不能为空。",
    "invalid": "格式不正确。",
    "unknown": "不是此表单的字段。",
}
SCHEMA_MESSAGES = {"unknown": MESSAGES["unknown"], "type": "请求体格式不正确，应为 JSON 对象。"}


def no_nul(value: str) -> None:
    """PostgreSQL text cannot hold NUL, and no person types one: refuse it as bad input."""
    if "\x00" in value:
        raise ValidationError("不能包含空字符（\\0）。")


class ChineseSchema(Schema):
    """A schema whose every message is in Chinese, for forms and for the JSON API alike."""

    error_messages = SCHEMA_MESSAGES

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.error_messages = {**field_obj.error_messages, **MESSAGES}
        for field in (field_obj, getattr(field_obj, "inner", None)):
            if isinstance(field, fields.String):
                field.validators = [*field.validators, no_nul]


def length(max_length: int, min_length: int | None = None) -> mv.Validator:
    return mv.Length(min=min_length, max=max_length, error=f"长度应在 {min_length or 0} 到 {max_length} 之间。")


def value_range(low: int, high: int) -> mv.Validator:
    return mv.Range(min=low, max=high, error=f"必须在 {low} 到 {high} 之间。")


def one_of(choices: tuple[str, ...] | list[str]) -> mv.Validator:
    return mv.OneOf(choices, error="不是允许的选项。")


class FormValidationError(ValueError):
    """Submitted data does not satisfy the form; `errors` maps field name to Chinese messages."""

    def __init__(self, form_key: str, errors: dict[str, list[str]]):
        super().__init__(f"form {form_key}: invalid data in {sorted(errors)}")
        self.form_key = form_key
        self.errors = errors


def validate(form: FormDefinition, data: Any) -> dict[str, Any]:
    """Return the cleaned data, or raise FormValidationError with per-field Chinese messages."""
    if not isinstance(data, dict):
        raise FormValidationError(form.key, {"_schema": ["提交的数据必须是对象。"]})
    try:
        loaded = schema_for(form).load(data)
    except ValidationError as err:
        raise FormValidationError(form.key, _flatten(err.messages)) from err
    # Every field gets a value, so gateway conditions never meet a missing name.
    return {f.name: None for f in form.fields} | loaded


@lru_cache(maxsize=256)
def schema_for(form: FormDefinition) -> Schema:
    """Forms are frozen dataclasses, so one compiled schema serves every submission."""
    attrs: dict[str, Any] = {name: _field(f) for name, f in ((f.name, f) for f in form.fields)}
    attrs["Meta"] = type("Meta", (), {"unknown": RAISE})
    if any(f.required_if for f in form.fields):
        attrs["_check_required_if"] = _required_if_validator(form)
    return type(f"{form.key.title()}FormSchema", (ChineseSchema,), attrs)()


def _field(f: FieldDefinition) -> fields.Field:
    common: dict[str, Any] = {"required": f.required, "error_messages": MESSAGES}
    if f.default is not None:
        common["load_default"] = f.default
    elif not f.required:
        common["allow_none"] = True
    return _BUILDERS[f.type](f, common)


def _length(f: FieldDefinition) -> list[mv.Validator]:
    return [mv.Length(max=f.max_length, error=f"不能超过 {f.max_length} 个字。")] if f.max_length else []


def _string(f: FieldDefinition, common: dict[str, Any]) -> fields.Field:
    checks = _length(f)
    if f.required:
        checks.append(mv.Length(min=1, error=MESSAGES["required"]))
    if f.pattern:
        checks.append(mv.Regexp(f.pattern, error="格式不正确。"))
    return fields.String(validate=checks, **common)


def _boolean(f: FieldDefinition, common: dict[str, Any]) -> fields.Field:
    # Only real JSON booleans and the values a HTML checkbox sends count; "maybe" is not True.
    return fields.Boolean(truthy={True, "true", "on", "1"}, falsy={False, "false", "off", "0", ""}, **common)


def _integer(f: FieldDefinition, common: dict[str, Any]) -> fields.Field:
    return fields.Integer(strict=False, validate=[value_range(f.min, f.max)], **common)


def _choice(f: FieldDefinition, common: dict[str, Any]) -> fields.Field:
    return fields.String(validate=[one_of(f.choice_values)], **common)


def _multichoice(f: FieldDefinition, common: dict[str, Any]) -> fields.Field:
    item = fields.String(validate=[one_of(f.choice_values)])
    return fields.List(item, **common)


def _list(f: FieldDefinition, common: dict[str, Any]) -> fields.Field:
    count = [mv.Length(max=f.max_items, error=f"最多 {f.max_items} 项。")] if f.max_items else []
    return fields.List(fields.String(validate=_length(f)), validate=count, **common)


def _date(f: FieldDefinition, common: dict[str, Any]) -> fields.Field:
    return fields.Date(**common)


class ShanghaiDateTime(fields.AwareDateTime):
    """ISO datetimes; a time written without an offset is Beijing time, as staff mean it."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)


def _datetime(f: FieldDefinition, common: dict[str, Any]) -> fields.Field:
    return ShanghaiDateTime(default_timezone=SHANGHAI, **common)


_BUILDERS = {
    "string": _string,
    "text": _string,
    "boolean": _boolean,
    "integer": _integer,
    "choice": _choice,
    "multichoice": _multichoice,
    "list": _list,
    "date": _date,
    "datetime": _datetime,
}


def _required_if_validator(form: FormDefinition):
    conditional = [f for f in form.fields if f.required_if]

    @validates_schema(skip_on_field_errors=False, pass_original=True)  # report every missing field at once
    def check(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        # Blank in what was sent, not in what loaded: a field that failed its own check is not "missing".
        sent = original if isinstance(original, dict) else {}
        missing = {f.name: [MESSAGES["required"]] for f in conditional
                   if _applies(f.required_if, data) and _blank(sent.get(f.name))}
        if missing:
            raise ValidationError(missing)

    return check


def _applies(condition: tuple[tuple[str, Any], ...], data: dict[str, Any]) -> bool:
    return all(data.get(name) == value for name, value in condition)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list)) and not value)


def _flatten(messages: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in messages.items():
        if isinstance(value, dict):  # list fields report errors per index
            out[name] = [m for sub in value.values() for m in (sub if isinstance(sub, list) else [sub])]
        else:
            out[name] = list(value) if isinstance(value, list) else [str(value)]
    return out
