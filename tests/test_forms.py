"""Form definitions become validators with Chinese per-field messages."""

from __future__ import annotations

import pytest

from forms import FormDefinition, FormDefinitionError, FormRegistry, FormValidationError, validate

FORMS = FormRegistry.from_dir()


def _errors(key: str, data: object) -> dict[str, list[str]]:
    with pytest.raises(FormValidationError) as err:
        validate(FORMS.get(key), data)
    return err.value.errors


def test_every_field_is_present_in_the_result():
    assert validate(FORMS.get("verify"), {"is_valid": True, "contact_verified": True}) == {
        "is_valid": True, "invalid_reason": None, "contact_verified": True, "verify_note": None}


def test_defaults_apply():
    assert validate(FORMS.get("review"), {"review_decision": "approve"})["apply_exemption"] is False


def test_required_if_follows_the_deciding_field():
    assert _errors("screen", {"category_l1": "城管", "request_type": "投诉", "sla_level": "7d",
                              "is_responsible": False}) == {
        "return_reason": ["此项为必填项。"], "return_evidence": ["此项为必填项。"]}
    assert _errors("handle", {"handle_action": "extend"}) == {
        "extension_days": ["此项为必填项。"], "extension_reason": ["此项为必填项。"]}


def test_types_choices_ranges_and_lengths():
    assert _errors("feedback", {"contacted": True, "solved": True, "satisfaction": "很好"}) == {
        "satisfaction": ["不是允许的选项。"]}
    assert _errors("handle", {"handle_action": "extend", "extension_days": 9, "extension_reason": "x"}) == {
        "extension_days": ["必须在 1 到 3 之间。"]}
    assert _errors("verify", {"is_valid": True, "contact_verified": True, "verify_note": "字" * 2001}) == {
        "verify_note": ["不能超过 2000 个字。"]}
    assert _errors("screen", {"category_l1": "x", "request_type": "投诉", "sla_level": "7d", "is_responsible": True,
                              "policy_tags": ["不存在"]}) == {"policy_tags": ["不是允许的选项。"]}


def test_html_checkbox_values_are_booleans_and_words_are_not():
    assert validate(FORMS.get("verify"), {"is_valid": "on", "contact_verified": "false"})["contact_verified"] is False
    assert "is_valid" in _errors("verify", {"is_valid": "yes please", "contact_verified": True})


def test_malformed_definitions_are_refused():
    with pytest.raises(FormDefinitionError):
        FormDefinition.from_json("{", "bad.json")
    with pytest.raises(FormDefinitionError, match="unknown type"):
        FormDefinition.from_dict({"key": "k", "title": "t", "fields": [{"name": "a", "label": "A", "type": "blob"}]})
    with pytest.raises(FormDefinitionError, match="unknown field"):
        FormDefinition.from_dict({"key": "k", "title": "t", "fields": [
            {"name": "a", "label": "A", "type": "string", "required_if": {"b": True}}]})


def test_definition_round_trips_for_clients():
    form = FORMS.get("screen")
    assert FormDefinition.from_dict(form.to_dict()) == form


def test_nul_characters_are_a_form_error_not_a_database_error():
    ticket = {"ticket_no": "A1", "source": "app", "received_at": "2026-11-20T09:00:00+08:00", "address": "x",
              "content": "a", "category_l2": "a\x00b", "tags": ["ok", "x\x00"]}
    assert _errors("intake", ticket) == {"category_l2": ["不能包含空字符（\\0）。"],
                                         "tags": ["不能包含空字符（\\0）。"]}
