"""Catalog answers: what the catalog graph itself says to a question it can answer, exactly.

A relation question ("who owns X?", "which services depend on X?", "what is in system S?") or a question
about one of an entity's own fields (lifecycle, type, tags) is answered from the graph, with the entity it
is about always named (so a wrong link shows) and the records that state each fact kept for citing. When
the graph has no answer (no owner set) the fact says so, instead of leaving a model to guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.catalog.focus import Reading
from assistant.catalog.graph import CatalogGraph
from assistant.catalog.linking import LINKED
from assistant.catalog.questions import (
    OBJECT,
    SUBJECT,
    Mention,
    RelationAsk,
    asked_relations,
    edges_between,
    matching_edges,
)
from assistant.catalog.relations import BELONGS, BY_FIELD, OWNS, PROVIDES, USES
from assistant.catalog.vocabulary import Vocabulary
from assistant.catalog.words import stem, words

# The catalog model's own field names, as a question says them ("what lifecycle", "what type", "tagged").
ATTRIBUTES = {stem("lifecycle"): "lifecycle", stem("type"): "type", stem("tags"): "tags", stem("tagged"): "tags"}
# What a relation question asks for, to say that the catalog has none.
MISSING = {
    (OWNS, OBJECT): "owner",
    (OWNS, SUBJECT): "entities owned by it",
    (USES, SUBJECT): "dependencies or consumed APIs",
    (USES, OBJECT): "entities that depend on it",
    (PROVIDES, OBJECT): "provider",
    (PROVIDES, SUBJECT): "provided APIs",
    (BELONGS, SUBJECT): "system, domain or group it belongs to",
    (BELONGS, OBJECT): "members or parts",
}


@dataclass(frozen=True)
class CatalogFact:
    """One fact about `entity`: `verb` then `refs`, as stated by the records in `stated_by` (ref -> the
    record stating it). No refs: the catalog has none (`verb` says what is missing)."""

    entity: str
    verb: str
    refs: tuple[str, ...]
    stated_by: tuple[tuple[str, str], ...]
    field: str
    known: frozenset[str]  # the refs the catalog holds (others are dangling)

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "field": self.field, "verb": self.verb, "refs": list(self.refs)}

    def sentence(self) -> str:
        if not self.refs:
            return f"The catalog names no {self.verb} for {self.entity}."
        return f"{self.entity} {self.verb} {', '.join(self.refs)}."


def catalog_facts(graph: CatalogGraph, vocabulary: Vocabulary, reading: Reading, normalised: str) -> list[CatalogFact]:
    """The facts the graph gives for a question, in the order of the entities it names."""
    # an entity the relations only name (an API never defined) is answered from the records that name it
    known = graph.entities.keys() | graph.edges.keys()
    linked = [link for link in reading.links if link.strength >= LINKED and link.entity in known]
    mentions = [Mention(link.entity, link.start, link.end) for link in linked]
    facts: list[CatalogFact] = []
    missing: list[CatalogFact] = []
    asks = asked_relations(normalised, mentions, vocabulary)
    facts += _stated_between(graph, asks)
    for ask in asks:
        if ask.direct:
            found = _relation_facts(graph, vocabulary, ask, set(reading.discussed))
            facts += found
            if not found and ask.complete:
                missing.append(_missing(ask))
    said = {word.stem for word in words(normalised)}
    for link in [link for link in linked if link.entity in graph.entities][:1]:
        facts += [
            fact
            for field in dict.fromkeys(ATTRIBUTES[s] for s in said if s in ATTRIBUTES)
            for fact in [_attribute(graph, link.entity, field)]
        ]
    answered = {fact.entity for fact in facts}
    facts += [fact for fact in missing if fact.entity not in answered]
    return list(dict.fromkeys(facts))


def _relation_facts(
    graph: CatalogGraph, vocabulary: Vocabulary, ask: RelationAsk, discussed: set[str]
) -> list[CatalogFact]:
    """`discussed`: entities the question leaves out ("what else does that team own?")."""
    grouped: dict[tuple[str, bool], list[tuple[str, str]]] = {}  # (field, stated by the entity) -> (ref, by)
    for edge in matching_edges(ask, graph.edges.get(ask.entity, [])):
        own = edge.stated_by == ask.entity
        other = edge.other(ask.entity) if own else edge.stated_by
        if other not in discussed:
            grouped.setdefault((edge.field, own), []).append((other, edge.stated_by))
    facts = []
    for (field, own), found in grouped.items():
        fitting = [item for item in found if ask.fits(vocabulary.entity_words.get(item[0], set()))]
        chosen = list(dict.fromkeys(fitting or found))
        relation = BY_FIELD[field]
        facts.append(
            CatalogFact(
                entity=ask.entity,
                verb=relation.says if own else relation.said,
                refs=tuple(ref for ref, _ in chosen),
                stated_by=tuple(chosen),
                field=field,
                known=frozenset(ref for ref, _ in chosen if ref in graph.entities),
            )
        )
    return facts


def _stated_between(graph: CatalogGraph, asks: list[RelationAsk]) -> list[CatalogFact]:
    """For "does X use Y?", the edge between the two as the record holding it states it. Nothing when the
    catalog states none: it may be true all the same, so the model answers."""
    facts = []
    for edge in edges_between(asks, graph.edges):
        if edge.field in BY_FIELD:
            other = edge.other(edge.stated_by)
            known = frozenset(ref for ref in (other,) if ref in graph.entities)
            stated = ((other, edge.stated_by),)
            facts.append(CatalogFact(edge.stated_by, BY_FIELD[edge.field].says, (other,), stated, edge.field, known))
    return facts


def _missing(ask: RelationAsk) -> CatalogFact:
    verb = MISSING[(ask.relation, ask.role)]
    return CatalogFact(ask.entity, verb, (), ((ask.entity, ask.entity),), "", frozenset())


def _attribute(graph: CatalogGraph, entity: str, field: str) -> CatalogFact:
    metadata = graph.entities.get(entity, {})
    value = metadata.get(field)
    values = tuple(str(v) for v in value) if isinstance(value, list) else ((str(value),) if value else ())
    if not values:
        return CatalogFact(entity, field, (), ((entity, entity),), field, frozenset())
    verb = {"lifecycle": "has the lifecycle", "type": "is of type", "tags": "is tagged"}[field]
    return CatalogFact(entity, verb, values, tuple((v, entity) for v in values), field, frozenset(values))
