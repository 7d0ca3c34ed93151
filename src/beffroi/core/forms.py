"""What the forms of every app share."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms


def set_choices(form: forms.BaseForm, name: str, choices: Iterable[tuple[object, object]]) -> None:
    """Give the choice field ``name`` of ``form`` the choices known only when the form is made
    (this organization's categories, sources, versions)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"The field {name!r} of {type(form).__name__} is not a choice field.")
    field.choices = choices
