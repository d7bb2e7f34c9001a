"""The consoles' action forms, built from the action schemas (hotline/schemas/actions.py):
one definition of what each action takes, for the API and the pages alike."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from werkzeug.datastructures import MultiDict

from ..domain.workflow import Action
from ..schemas.actions import ACTIONS


class FormField(NamedTuple):
    name: str  # the input's name (the schema field's, or the file input's)
    label: str
    kind: str  # textarea, text, select, datetime, unit, units, category, file
    required: bool  # marked with * (a select always has a value)
    choices: tuple[tuple[str, str], ...]


@functools.cache
def action_form(action: Action) -> tuple[FormField, ...]:
    """The inputs of ``action``'s form, in the schema's order (the version is hidden)."""
    found = []
    for name, field in ACTIONS[action].schema().fields.items():
        spec = field.metadata.get("form")
        if spec is None:
            continue  # the version, and anything the API alone takes
        required = field.required or spec["kind"] == "select"
        found.append(FormField(spec["name"] or name, spec["label"], spec["kind"], required,
                               spec["choices"]))  # fmt: skip
    return tuple(found)


def action_forms() -> dict[Action, tuple[FormField, ...]]:
    return {action: action_form(action) for action in ACTIONS}


def label(action: Action) -> str:
    return ACTIONS[action].label


def posted(action: Action, form: MultiDict[str, str]) -> dict[str, Any]:
    """A posted action form as the action's schema expects it (the API's JSON shapes). An
    empty required field, or an unchosen option, is sent as "" so that the schema says
    what is missing (nothing is ever decided by default); empty optional text is left out."""
    version = form.get("version", "")
    data: dict[str, Any] = {"version": int(version) if version.isdigit() else version}
    for name, _label, kind, required, _choices in action_form(action):
        if kind == "file":
            continue
        if kind == "units":
            data[name] = [v for v in form.getlist(name) if v]
            continue
        value = form.get(name, "").strip()
        if value or required:
            data[name] = value
    return data
