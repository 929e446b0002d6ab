"""`spec` keys that look like a relation field but are not one: `consumesApi` for `consumesApis`.

Backstage ignores a key it does not know, so the relation silently goes missing from the catalog (and from
every answer about it). Reported as a warning so the catalog's author can fix the file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rapidfuzz import fuzz, process

from assistant.catalog.relations import RELATIONS

_FIELDS = {relation.field.casefold(): relation.field for relation in RELATIONS}
_KNOWN = frozenset(_FIELDS.values())
_FOLDED = list(_FIELDS)
CLOSE_ENOUGH = 85  # rapidfuzz ratio: one letter wrong, missing or extra in a field name of six or more


def misspelt_relation_fields(entity: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key as written, the relation field it most likely means) for each `spec` key holding entity refs
    (a string or a list of strings) that differs from a relation field by case or by about one letter."""
    spec = entity.get("spec")
    if not isinstance(spec, dict):
        return
    for key, value in spec.items():
        if not isinstance(key, str) or key in _KNOWN or not _holds_refs(value):
            continue
        match = process.extractOne(key.casefold(), _FOLDED, scorer=fuzz.ratio, score_cutoff=CLOSE_ENOUGH)
        if match is not None:
            yield key, _FIELDS[match[0]]


def misspelling(key: str, meant: str) -> str:
    """The warning's words, the same from every source."""
    return f"spec.{key} is not a relation field Backstage reads (did you mean {meant}?)"


def _holds_refs(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(isinstance(item, str) for item in values)
