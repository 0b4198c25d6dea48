"""Turns a form definition into HTML fields, and a browser's submission back into data to validate."""

from __future__ import annotations

from typing import Any, Protocol

from markupsafe import Markup, escape

from forms.definition import FieldDefinition, FormDefinition


class MultiDict(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


def render_fields(form: FormDefinition, values: dict[str, Any] | None = None,
                  errors: dict[str, list[str]] | None = None) -> Markup:
    """Every field with its Chinese label, current value and error messages; all text is escaped."""
    values, errors = values or {}, errors or {}
    blocks = (_field_block(f, values.get(f.name, f.default), errors.get(f.name, [])) for f in form.fields)
    return Markup("\n").join(blocks)


def parse_submission(form: FormDefinition, submitted: MultiDict) -> dict[str, Any]:
    """Browser fields to the JSON-like data the validator takes: empty inputs are left out."""
    data: dict[str, Any] = {}
    for f in form.fields:
        value = _read(f, submitted)
        if value not in (None, "", []):
            data[f.name] = value
    return data


def _read(f: FieldDefinition, submitted: MultiDict) -> Any:
    if f.type == "multichoice":
        return submitted.getlist(f.name)
    if f.type == "list":
        return [line.strip() for line in (submitted.get(f.name) or "").splitlines() if line.strip()]
    if f.type == "boolean" and f.default is not None:
        return "true" if submitted.get(f.name) else "false"  # a checkbox sends nothing when unticked
    return (submitted.get(f.name) or "").strip()


def _field_block(f: FieldDefinition, value: Any, errors: list[str]) -> Markup:
    required = Markup(' <span class="required" title="必填">*</span>') if f.required else Markup("")
    error_html = Markup("").join(Markup('<p class="field-error">{}</p>').format(m) for m in errors)
    css = "field has-error" if errors else "field"
    single_input = f.type not in ("boolean", "multichoice") or f.default is not None
    label_for = Markup(' for="f-{}"').format(f.name) if single_input else Markup("")
    return Markup('<div class="{css}" data-field="{name}"><label{label_for}>{label}{required}</label>{input}{errors}'
                  "</div>").format(css=css, name=f.name, label_for=label_for, label=f.label,
                                   required=required, input=_input(f, value), errors=error_html)


def _input(f: FieldDefinition, value: Any) -> Markup:
    name = escape(f.name)
    if f.type == "text":
        return Markup('<textarea id="f-{n}" name="{n}" rows="4"{m}>{v}</textarea>').format(
            n=name, m=_maxlength(f), v=value or "")
    if f.type == "list":
        text = "\n".join(value) if isinstance(value, list) else (value or "")
        return Markup('<textarea id="f-{n}" name="{n}" rows="3" placeholder="每行一项">{v}</textarea>').format(
            n=name, v=text)
    if f.type == "boolean":
        return _boolean(f, value)
    if f.type == "choice":
        return _select(f, value)
    if f.type == "multichoice":
        return _checkboxes(f, value or [])
    kind = {"integer": "number", "date": "date", "datetime": "datetime-local"}.get(f.type, "text")
    bounds = (("min", f.min), ("max", f.max))
    limits = Markup("").join(Markup(' {}="{}"').format(k, v) for k, v in bounds if v is not None)
    return Markup('<input id="f-{n}" name="{n}" type="{t}" value="{v}"{m}{l}>').format(
        n=name, t=kind, v="" if value is None else value, m=_maxlength(f), l=limits)


def _boolean(f: FieldDefinition, value: Any) -> Markup:
    if f.default is not None:  # optional yes/no: a checkbox
        checked = Markup(" checked") if value in (True, "true", "on") else Markup("")
        return Markup('<input id="f-{n}" name="{n}" type="checkbox" value="true"{c}>').format(n=f.name, c=checked)
    options = ((True, "是"), (False, "否"))  # required yes/no: radios, so "not answered" stays visible
    return Markup('<span class="radios">{}</span>').format(Markup("").join(
        Markup('<label><input type="radio" name="{n}" value="{v}"{c}> {t}</label>').format(
            n=f.name, v=str(v).lower(), t=t, c=Markup(" checked") if value in (v, str(v).lower()) else Markup(""))
        for v, t in options))


def _select(f: FieldDefinition, value: Any) -> Markup:
    options = Markup("").join(
        Markup('<option value="{v}"{s}>{t}</option>').format(v=v, t=t, s=Markup(" selected") if v == value else "")
        for v, t in f.choices)
    return Markup('<select id="f-{n}" name="{n}"><option value="">请选择</option>{o}</select>').format(
        n=f.name, o=options)


def _checkboxes(f: FieldDefinition, values: list[str]) -> Markup:
    return Markup('<span class="checks">{}</span>').format(Markup("").join(
        Markup('<label><input type="checkbox" name="{n}" value="{v}"{c}> {t}</label>').format(
            n=f.name, v=v, t=t, c=Markup(" checked") if v in values else Markup(""))
        for v, t in f.choices))


def _maxlength(f: FieldDefinition) -> Markup:
    return Markup(' maxlength="{}"').format(f.max_length) if f.max_length else Markup("")
