"""One catalog entity as ingested, read from the retriever's in-memory catalog snapshot (no store round trip).

Read-only: what `get_entity` (MCP) shows: the entity's record, its relations both ways, its TechDocs pages and
where to open it in Backstage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.catalog.relations import wording
from assistant.documents import TECHDOCS, EntityRef
from assistant.errors import InvalidRequest, UnknownEntity
from assistant.links import entity_url, techdocs_url
from assistant.retrieval import CatalogSnapshot, Retriever

_FIELDS = ("kind", "namespace", "name", "title", "description", "owner", "system", "lifecycle", "type")


@dataclass(frozen=True)
class Relation:
    relation: str  # as read from the entity: "owned by", "depends on", "is a dependency of"...
    entity: str
    direction: str  # "outgoing": stated by this entity's record; "incoming": stated by the other's


@dataclass(frozen=True)
class TechDocsPage:
    page: str
    title: str
    url: str


@dataclass
class EntityView:
    ref: str
    url: str
    text: str
    metadata: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    techdocs: list[TechDocsPage] = field(default_factory=list)


class EntityDirectory:
    """Looks entities up by reference in the catalog the retriever holds."""

    def __init__(self, retriever: Retriever, links_base_url: str) -> None:
        self.retriever = retriever
        self.links_base_url = links_base_url

    def get(self, ref: str) -> EntityView:
        """The entity `ref` names (`kind:[namespace/]name`, any case); `UnknownEntity` if the catalog has none."""
        try:
            parsed = EntityRef.parse(ref)
        except ValueError as error:
            raise InvalidRequest(f"{error}: write it as kind:namespace/name", field="ref") from None
        snapshot = self.retriever.index.current()
        key = _find(snapshot, str(parsed))
        if key is None:
            raise UnknownEntity(f"no entity '{parsed}' in the knowledge base; search finds refs by name", field="ref")
        metadata = snapshot.entities[key]
        text = snapshot.entity_text(key)
        entity = EntityRef.parse(key)
        return EntityView(
            ref=key,
            url=entity_url(self.links_base_url, entity),
            text=text,
            metadata={name: metadata.get(name) for name in _FIELDS},
            tags=[str(tag) for tag in metadata.get("tags") or []],
            relations=_relations(snapshot, key),
            techdocs=_pages(snapshot, entity, self.links_base_url),
        )


def _find(snapshot: CatalogSnapshot, ref: str) -> str | None:
    if ref in snapshot.entities:
        return ref
    folded = ref.casefold()  # Backstage compares refs case-insensitively
    return next((known for known in snapshot.entities if known.casefold() == folded), None)


def _relations(snapshot: CatalogSnapshot, ref: str) -> list[Relation]:
    relations = []
    for other, metadata in snapshot.entities.items():
        for item in metadata.get("relations") or []:
            field_name, _, target = str(item).partition(":")
            forward, reverse = wording(field_name)
            if other == ref:
                relations.append(Relation(forward, target, "outgoing"))
            elif target == ref:
                relations.append(Relation(reverse, other, "incoming"))
    return list(dict.fromkeys(relations))


def _pages(snapshot: CatalogSnapshot, entity: EntityRef, base_url: str) -> list[TechDocsPage]:
    pages: dict[str, str] = {}
    ref = str(entity)
    for metadata in snapshot.metadatas:
        if metadata.get("chunk") == TECHDOCS and metadata.get("entity") == ref and metadata.get("page"):
            page = str(metadata["page"])
            pages.setdefault(page, str(metadata.get("page_title") or page))
    return [TechDocsPage(page, title, techdocs_url(base_url, entity, page)) for page, title in pages.items()]
