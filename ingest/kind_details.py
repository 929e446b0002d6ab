"""Text lines that only some kinds have: what a software Template asks for and what it runs, and the plain
fields of kinds Backstage does not define (catalog-model extensions such as a marketplace's `Package`).

Backstage's own kinds read through the generic fields of `ingest.entities.entity_text` alone.
"""

from __future__ import annotations

from typing import Any


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _parameter_lines(parameters: Any) -> list[str]:
    """One line per form page: its title, then each field's title and description."""
    pages = parameters if isinstance(parameters, list) else [parameters]
    lines = []
    for page in pages:
        if not isinstance(page, dict):
            continue
        fields = []
        for key, prop in (page.get("properties") or {}).items():
            if not isinstance(prop, dict):
                continue
            label = _text(prop.get("title")) or str(key)
            description = _text(prop.get("description"))
            fields.append(f"{label} ({description})" if description else label)
        title = _text(page.get("title"))
        if title or fields:
            lines.append(f"Asks for: {title + ': ' if title else ''}{', '.join(fields)}".rstrip(": "))
    return lines


def _step_line(steps: Any) -> list[str]:
    names = []
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict) or not step.get("action"):
            continue
        name = _text(step.get("name") or step.get("id"))
        names.append(f"{name} ({step['action']})" if name else str(step["action"]))
    return [f"Steps: {', '.join(names)}"] if names else []


# The kinds of Backstage's catalog model; any other kind comes from an extension and is described generically.
BUILT_IN_KINDS = frozenset({"component", "api", "resource", "system", "domain", "group", "user", "location"})


def _plain_fields(spec: dict[str, Any], shown: set[str]) -> list[str]:
    """`key: value` for an extension kind's scalar fields and lists of scalars, in the file's order."""
    lines = []
    for key, value in spec.items():
        if key in shown or value in (None, "", []):
            continue
        if isinstance(value, str | int | float | bool):
            lines.append(f"{key}: {_text(value)}")
        elif isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
            lines.append(f"{key}: {', '.join(_text(item) for item in value)}")
    return lines


def kind_details(entity: dict[str, Any], shown: set[str] | None = None) -> list[str]:
    """Extra lines for the entity's text, by kind; `shown` are the spec fields the text has already."""
    kind = str(entity.get("kind", "")).lower()
    spec = entity.get("spec") or {}
    if not isinstance(spec, dict) or kind in BUILT_IN_KINDS:
        return []
    if kind == "template":
        return _parameter_lines(spec.get("parameters")) + _step_line(spec.get("steps"))
    return _plain_fields(spec, shown or set())
