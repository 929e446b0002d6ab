"""What one sync must do, decided from stored fingerprints alone, before the embedding model is touched.

A document is unchanged when its content hash and embedding model match what is stored. Stored documents
that the source no longer produces are deleted, except those of *protected* units (a catalog file that
failed to read, an entity's TechDocs site that failed): they keep exactly what they had. Protection reaches
the TechDocs and definition chunks of an entity whose own record sits in a protected unit, since an entity
that could not be read cannot say where its docs went.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from assistant.documents import ENTITY, Document


@dataclass(frozen=True)
class Stored:
    """What the store holds of one document, as far as syncing is concerned."""

    fingerprint: str  # content hash | embedding model
    unit: str = ""
    entity: str = ""
    chunk: str = ""


@dataclass
class SyncPlan:
    embed: list[Document] = field(default_factory=list)  # new or changed: embed and write
    relabel: list[Document] = field(default_factory=list)  # same content, another unit: metadata only
    delete: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # gone from the source, but their unit is protected
    new_ids: set[str] = field(default_factory=set)  # of `embed`, those the store does not hold yet
    unchanged: int = 0

    @property
    def added(self) -> int:
        return len(self.new_ids)


def fingerprint(document: Document, model: str) -> str:
    return f"{document.content_hash}|{model}"


def plan_sync(
    wanted: Mapping[str, Document], stored: Mapping[str, Stored], model: str, protected_units: Collection[str] = ()
) -> SyncPlan:
    plan = SyncPlan()
    for doc_id, document in wanted.items():
        before = stored.get(doc_id)
        if before is None or before.fingerprint != fingerprint(document, model):
            plan.embed.append(document)
            if before is None:
                plan.new_ids.add(doc_id)
        elif before.unit != document.unit:
            plan.relabel.append(document)
            plan.unchanged += 1
        else:
            plan.unchanged += 1
    protected = set(protected_units)
    produced_entities = {str(doc.metadata.get("entity", "")) for doc in wanted.values()}
    protected_entities = {
        item.entity
        for item in stored.values()
        if item.chunk == ENTITY and item.unit in protected and item.entity not in produced_entities
    }
    for doc_id, item in stored.items():
        if doc_id in wanted:
            continue
        if item.unit in protected or item.entity in protected_entities:
            plan.kept.append(doc_id)
        else:
            plan.delete.append(doc_id)
    # Longest first, as sentence-transformers orders a batch: batches of like lengths waste no padding.
    plan.embed.sort(key=lambda doc: len(doc.text), reverse=True)
    return plan
