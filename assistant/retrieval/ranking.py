"""How sources are put in order: explicit tiers first, then the fused score plus what linking adds.

- A chunk's `score` is the fused similarity `DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * bm25 / best_bm25`
  and stays that: meaning from MiniLM, exact words from BM25. The weight sits on a broad plateau across
  catalogs (see benchmarks/retrieval.py), not per question.
- Tier `ANSWER` holds the records that state what a relation question asks for ("which services use X?":
  the records of the services whose `dependsOn` names X; "who owns X?": X's own record); tier `ANSWERED`
  the entities those records name (X; X's owner), so a reader can go on to them. Everything else is tier
  `REST`. Only an entity's record is placed in a tier; its TechDocs pages are `REST`. A question that asks for
  others ("what *else* does that team own?", "the *other* databases") sets what the conversation already
  discussed aside: those entities' sources (records and pages) come last, tier `SET_ASIDE`. A question that
  names nothing but asks for a kind ("which service generates the PDFs?") puts the sources of entities of
  other kinds after the rest, tier `UNWANTED` (`placements.of_other_kinds`).
- Within a tier, sources are ordered by their score, except that the sources (record and TechDocs pages) of
  an entity the question links to (`assistant.catalog.linking`), or reaches through the relation it asks
  about, are ranked as if their keyword signal were at least the link's strength: naming an entity
  outright counts as much as the best keyword match, and never more, so a page that answers a how-to
  question about a named entity still ranks above the entity's bare record.
- Which of a named entity's own sources (its record, its pages) comes first in the places they hold is
  decided by the words of the question the name does not explain: every one of them matches the name, so
  the name says nothing about which answers "how do I roll out a new image of it?". Their similarity is
  fused with the keyword signal of those other words instead (`within_entity`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from assistant.documents import Hit

DENSE_WEIGHT = 0.5
ANSWER, ANSWERED, REST, UNWANTED, SET_ASIDE = 0, 1, 2, 3, 4


def fused(similarity: float, keyword: float) -> float:
    return DENSE_WEIGHT * similarity + (1 - DENSE_WEIGHT) * keyword


@dataclass(frozen=True)
class Placement:
    """What the question says about one entity's sources: their tier, the lift within it, and why."""

    tier: int = REST
    strength: float = 0.0
    reasons: tuple[str, ...] = ()

    def merge(self, tier: int, strength: float, reason: str) -> Placement:
        reasons = self.reasons if reason in self.reasons else (*self.reasons, reason)
        return Placement(min(self.tier, tier), max(self.strength, strength), reasons)


def place(placements: dict[str, Placement], entity: str, tier: int, strength: float, reason: str) -> None:
    placements[entity] = placements.get(entity, Placement()).merge(tier, strength, reason)


def order(
    hits: Iterable[Hit],
    keyword: dict[str, float],
    placements: dict[str, Placement],
    unexplained: dict[str, float] | None = None,
    unwanted: frozenset[str] = frozenset(),
) -> list[Hit]:
    """Distinct sources in their explained order; `why` says what placed each. `keyword`: each chunk's
    keyword signal (0..1) as fused into its score; `unexplained`: the same for the words the names the
    question links to leave over, for the chunks of those entities (`within_entity`); `unwanted`: entities
    not of the kind the question asks for."""
    placed = []
    for hit in best_per_source(hits):
        placement = placements.get(hit.entity)
        if placement is None:
            if hit.entity in unwanted:
                placed.append((UNWANTED, hit.score, replace(hit, reason=f"{hit.reason} + not the kind asked for")))
            else:
                placed.append((REST, hit.score, hit))
            continue
        # a relation is stated by the record; what was set aside is set aside whole
        tier = placement.tier if hit.page is None or placement.tier == SET_ASIDE else REST
        reasons = [r for r in placement.reasons if tier != REST or not r.startswith(("answers", "named by"))]
        why = " + ".join([*reasons, hit.reason]) if reasons else hit.reason
        lift = (1 - DENSE_WEIGHT) * max(0.0, placement.strength - keyword.get(hit.id, 0.0))
        placed.append((tier, hit.score + lift, replace(hit, reason=why)))
    placed.sort(key=lambda item: (item[0], -item[1]))
    return within_entity(placed, keyword, unexplained or {})


def within_entity(
    placed: list[tuple[int, float, Hit]], keyword: dict[str, float], unexplained: dict[str, float]
) -> list[Hit]:
    """The hits of `placed` (tier, sort score, hit), with each named entity's sources of one tier reordered
    among the places they hold by their similarity fused with `unexplained` instead of the whole question's
    keyword signal."""
    ranked = [hit for _, _, hit in placed]
    groups: dict[tuple[int, str], list[int]] = {}
    for n, (tier, _, hit) in enumerate(placed):
        if hit.id in unexplained:
            groups.setdefault((tier, hit.entity), []).append(n)
    reordered = list(ranked)
    for places in groups.values():
        if len(places) < 2:
            continue
        hits = sorted(
            (ranked[n] for n in places),
            key=lambda hit: -(hit.score + (1 - DENSE_WEIGHT) * (unexplained[hit.id] - keyword.get(hit.id, 0.0))),
        )
        for n, hit in zip(places, hits, strict=True):
            reordered[n] = hit
    return reordered


def best_per_source(hits: Iterable[Hit], k: int | None = None) -> list[Hit]:
    """The `k` best distinct sources (entity, or entity + TechDocs page), each by its best chunk."""
    best: dict[tuple[str, str | None], Hit] = {}
    for hit in hits:
        key = hit.source_key
        if key not in best or hit.score > best[key].score:
            best[key] = hit
    ranked = sorted(best.values(), key=lambda hit: hit.score, reverse=True)
    return ranked if k is None else ranked[:k]
