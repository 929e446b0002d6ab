"""The catalog graph in memory: every entity's record and its relations, both directions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.catalog.relations import Edge, edges_of, wording


@dataclass(frozen=True)
class EntityFacts:
    """What the catalog graph says about one entity: relations grouped by wording, both directions."""

    entity: str
    title: str
    relations: dict[str, list[str]]

    def refs(self) -> set[str]:
        return {self.entity} | {ref for refs in self.relations.values() for ref in refs}

    def line(self) -> str:
        parts = [f"{label} {', '.join(refs)}" for label, refs in self.relations.items()]
        return f"{self.entity} ({self.title}): " + ("; ".join(parts) if parts else "no relations in the catalog")


@dataclass
class CatalogGraph:
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)  # ref -> the entity's metadata
    related: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # ref -> (wording, other ref)
    edges: dict[str, list[Edge]] = field(default_factory=dict)  # ref -> edges it is an end of

    def add(self, metadata: dict[str, Any]) -> None:
        entity = str(metadata.get("entity", ""))
        self.entities[entity] = metadata
        relations = [str(item) for item in metadata.get("relations") or []]
        for item in relations:
            field_name, _, target = item.partition(":")
            forward, reverse = wording(field_name)
            self.related.setdefault(entity, []).append((forward, target))
            self.related.setdefault(target, []).append((reverse, entity))
        for edge in edges_of(entity, relations):
            self.edges.setdefault(edge.subject, []).append(edge)
            if edge.object != edge.subject:
                self.edges.setdefault(edge.object, []).append(edge)

    def named_only(self) -> dict[str, dict[str, Any]]:
        """Refs the catalog's relations name without a record of their own (an API that is provided but
        never defined, an owner group kept elsewhere), as the ref itself describes them: a question can name
        them, and the records that name them answer it ("who provides the billing API?")."""
        return {
            ref: {"entity": ref, "kind": kind, "name": name, "namespace": namespace}
            for ref in self.edges
            if ref not in self.entities
            for kind, _, rest in [ref.partition(":")]
            for namespace, _, name in [rest.rpartition("/")]
            if kind and name
        }

    def neighbours(self, entity: str) -> set[str]:
        return {other for _, other in self.related.get(entity, [])}

    def kind(self, entity: str) -> str:
        return str(self.entities.get(entity, {}).get("kind") or entity.partition(":")[0])

    def facts(self, entity: str) -> EntityFacts:
        metadata = self.entities.get(entity, {})
        grouped: dict[str, list[str]] = {}
        for label, other in self.related.get(entity, []):
            if other not in grouped.setdefault(label, []):
                grouped[label].append(other)
        title = str(metadata.get("title") or metadata.get("name") or entity)
        return EntityFacts(entity, title, {label: sorted(refs) for label, refs in grouped.items()})
