"""Text lines that only some kinds have: what a software Template asks for and what it runs.

Every other kind, custom kinds from catalog-model extensions included, reads through the generic fields of
`ingest.entities.entity_text` alone.
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


def kind_details(entity: dict[str, Any]) -> list[str]:
    """Extra lines for the entity's text, by kind."""
    if str(entity.get("kind", "")).lower() != "template":
        return []
    spec = entity.get("spec") or {}
    return _parameter_lines(spec.get("parameters")) + _step_line(spec.get("steps"))
