"""Task form definitions and the code that turns them into validators and HTML fields."""

from forms.definition import FieldDefinition, FormDefinition, FormDefinitionError
from forms.registry import FormRegistry, default_forms_dir
from forms.validation import FormValidationError, validate

__all__ = [
    "FieldDefinition",
    "FormDefinition",
    "FormDefinitionError",
    "FormRegistry",
    "FormValidationError",
    "default_forms_dir",
    "validate",
]
