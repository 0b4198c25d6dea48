"""Loads form definitions from a folder of JSON files, one file per form."""

from __future__ import annotations

from pathlib import Path

from forms.definition import FormDefinition


def default_forms_dir() -> Path:
    return Path(__file__).parent / "definitions"


class FormRegistry:
    """Form definitions by key, as read from a folder."""

    def __init__(self, forms: dict[str, FormDefinition], sources: dict[str, str]):
        self._forms = forms
        self._sources = sources

    @classmethod
    def from_dir(cls, folder: Path | None = None) -> FormRegistry:
        folder = folder or default_forms_dir()
        forms, sources = {}, {}
        for path in sorted(folder.glob("*.json")):
            text = path.read_text(encoding="utf-8")
            form = FormDefinition.from_json(text, source=path.name)
            forms[form.key] = form
            sources[form.key] = text
        return cls(forms, sources)

    def __contains__(self, key: str) -> bool:
        return key in self._forms

    def get(self, key: str) -> FormDefinition:
        return self._forms[key]

    def source(self, key: str) -> str:
        """The file text a deployment stores so later edits never change running instances."""
        return self._sources[key]
