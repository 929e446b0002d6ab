"""Relation targets that are not in the catalog: kept in the entity's text, reported as warnings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set

from assistant.documents import ENTITY, Document
from ingest.problems import DANGLING, Problem


def dangling_references(documents: Iterable[Document], known: Set[str]) -> Iterator[Problem]:
    """One warning per relation of an entity whose target is not among `known` entity refs, lazily: the first
    one alone says whether the store is worth a look."""
    for document in documents:
        if document.metadata.get("chunk") != ENTITY:
            continue
        relations = document.metadata.get("relations") or []
        file, line = document.origin or (None, None)
        for relation in relations if isinstance(relations, list) else []:
            field_name, _, target = str(relation).partition(":")
            if target and target not in known:
                message = f"{document.id}: {field_name} {target} is not in the catalog"
                yield Problem(message, DANGLING, None, file, line)
