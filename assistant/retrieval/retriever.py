"""From a question (and its conversation) to ranked, distinct sources.

Each entity and each TechDocs page counts once, its best chunk standing for it. Chunks are scored by dense
similarity fused with BM25 (`ranking`); entities the question links to or asks about are placed by
`placements`; an entity scope covers the entity and its neighbours.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from cachetools import LRUCache

from assistant.catalog.answers import CatalogFact, catalog_facts
from assistant.catalog.focus import Reading, read_question
from assistant.catalog.graph import EntityFacts
from assistant.catalog.linking import LINKED
from assistant.documents import DEFINITION, Hit
from assistant.knowledge import KnowledgeBase
from assistant.retrieval.keywords import top_indices
from assistant.retrieval.placements import of_other_kinds, placements_for, unexplained_words
from assistant.retrieval.ranking import fused, order
from assistant.retrieval.snapshot import CatalogIndex, CatalogSnapshot

CANDIDATES = 50  # chunks taken from each signal before fusion
READINGS_KEPT = 256  # questions in flight and just answered


@dataclass(frozen=True)
class _KeywordSide:
    lexical: np.ndarray  # BM25 score of every indexed chunk
    brought: list[str]  # the chunks BM25 and the placements bring
    # stored vectors of some of them (ids, a row each), fetched while the question was being embedded
    fetched: tuple[list[str], np.ndarray] = ([], np.zeros((0, 0), dtype=np.float32))


class Retriever:
    """Ranks distinct sources for a question; the one place where retrieval gets smart."""

    def __init__(self, kb: KnowledgeBase, candidates: int = CANDIDATES, refresh_in_background: bool = False) -> None:
        self.kb = kb
        self.candidates = candidates
        self.index = CatalogIndex(kb, refresh_in_background=refresh_in_background)
        self._readings: LRUCache[tuple[str, str, tuple[tuple[str, str], ...]], Reading] = LRUCache(READINGS_KEPT)
        self._readings_lock = threading.Lock()

    def scope(self, entity: str) -> set[str]:
        """An entity and what it relates to: what a page embedded on that entity's page is about."""
        return {entity} | self.index.current().graph.neighbours(entity)

    def read(self, question: str, history: Sequence[Any] = ()) -> Reading:
        """The question in the light of its conversation: what it links to and the text to search with.

        One answer reads its question several times (the text to embed, the sources, the facts, the catalog
        answer); the reading is kept per catalog generation so linking runs once."""
        snapshot = self.index.current()
        turns = tuple((str(t.get("role")), str(t.get("content"))) for t in history if isinstance(t, dict))
        key = (snapshot.generation, question, turns)
        with self._readings_lock:
            reading = self._readings.get(key)
        if reading is None:
            reading = read_question(
                question, history, snapshot.linker, snapshot.graph, snapshot.vocabulary, snapshot.describes
            )
            with self._readings_lock:
                self._readings[key] = reading
        return reading

    def retrieve(self, question: str, k: int, entity: str | None = None, history: Sequence[Any] = ()) -> list[Hit]:
        snapshot = self.index.current()
        allowed = self.scope(entity) if entity else None
        reading = self.read(question, history)
        # the embedding worker computes the question's vector while the keyword side is worked out here
        vector = self.kb.embedder.submit_query(reading.query)
        placements = placements_for(snapshot, reading, reading.asked, allowed)
        keyword_side = self._keyword_side(snapshot, reading.query, allowed, must=list(placements))
        if not vector.done():  # still embedding: fetch the stored vectors of what BM25 and placements bring
            keyword_side = replace(keyword_side, fetched=self.kb.embeddings(keyword_side.brought))
        hits, keyword = self._scored(snapshot, keyword_side, vector.result(), allowed)
        unexplained = self._unexplained(snapshot, reading, hits)
        unwanted = of_other_kinds(snapshot, reading, {hit.entity for hit in hits})
        return self._lead_with_entity_text(snapshot, order(hits, keyword, placements, unexplained, unwanted)[:k])

    @staticmethod
    def _unexplained(snapshot: CatalogSnapshot, reading: Reading, hits: list[Hit]) -> dict[str, float]:
        """The keyword signal, for the chunks of the entities the question names, of the words those
        names leave over (`ranking.within_entity`); on the same scale as the whole question's."""
        named = {link.entity for link in reading.links if link.strength >= LINKED}
        leftover = unexplained_words(reading)
        if not named or not leftover:
            return {}
        lexical, position = snapshot.bm25_scores(leftover), snapshot.position
        scored = [(hit.id, lexical[position[hit.id]]) for hit in hits if hit.id in position]
        best = max((score for _, score in scored), default=0.0)
        if best <= 0:
            return {}
        return {doc_id: score / best for doc_id, score in scored if snapshot.entity_of[position[doc_id]] in named}

    def _keyword_side(
        self, snapshot: CatalogSnapshot, query: str, allowed: set[str] | None, must: list[str]
    ) -> _KeywordSide:
        """What needs no vector: BM25 scores and the chunks they and the placed entities bring."""
        lexical = snapshot.bm25_scores(query)
        if allowed is not None and len(lexical):
            lexical = np.where(np.isin(snapshot.entity_of, list(allowed)), lexical, 0.0)
        top_lexical = [snapshot.ids[i] for i in top_indices(lexical, self.candidates)]
        must_score = [snapshot.entity_chunk[e] for e in must if e in snapshot.entity_chunk]
        brought = list(dict.fromkeys(top_lexical + must_score))
        if allowed is not None:
            brought = [doc_id for doc_id in brought if snapshot.entity_of[snapshot.position[doc_id]] in allowed]
        return _KeywordSide(lexical, brought)

    def _scored(
        self, snapshot: CatalogSnapshot, side: _KeywordSide, vector: list[float], allowed: set[str] | None
    ) -> tuple[list[Hit], dict[str, float]]:
        """Candidate chunks from both signals, each with its fused score. Placed entities are scored even
        when neither signal brought their text."""
        where = {"entity": {"$in": sorted(allowed)}} if allowed else None
        dense = dict(self.kb.nearest(vector, self.candidates, where))
        lexical, position = side.lexical, snapshot.position
        cosine = dict(dense)
        fetched_ids, fetched = side.fetched
        known = set(fetched_ids)
        missing_ids, missing = self.kb.embeddings([d for d in side.brought if d not in dense and d not in known])
        query_vector = np.asarray(vector, dtype=np.float32)
        for ids, vectors in ((fetched_ids, fetched), (missing_ids, missing)):
            if ids:  # vectors are normalised: cosine is the dot product
                similarities = (vectors @ query_vector).tolist()
                cosine.update((d, c) for d, c in zip(ids, similarities, strict=True) if d not in dense)
        best_lexical = max((lexical[position[d]] for d in cosine if d in position), default=0.0) or 1.0
        dense_rank = {doc_id: n for n, doc_id in enumerate(dense)}
        # chunks stored after the keyword index was built (the service rebuilds it in the background)
        unindexed = [doc_id for doc_id in cosine if doc_id not in position]
        newer = {hit.id: hit for hit in self.kb.get(ids=unindexed)} if unindexed else {}
        hits: list[Hit] = []
        keywords: dict[str, float] = {}
        for doc_id, similarity in cosine.items():
            if doc_id in position:
                n = position[doc_id]
                hit = Hit(doc_id, snapshot.texts[n], dict(snapshot.metadatas[n]), 0.0)
                keyword = lexical[n] / best_lexical
            elif doc_id in newer:
                hit, keyword = newer[doc_id], 0.0
            else:
                continue
            reasons = []
            if keyword >= 0.5:
                reasons.append("matching words")
            if dense_rank.get(doc_id, self.candidates) < 10:
                reasons.append("similar meaning")
            hits.append(replace(hit, score=fused(similarity, keyword), reason=" + ".join(reasons) or "related"))
            keywords[doc_id] = keyword
        return hits, keywords

    def facts(self, question: str, entity: str | None = None, limit: int = 3, history: Sequence[Any] = ()) -> list[str]:
        """What the catalog graph says about the entities the question means (or the scoped entity)."""
        return [facts.line() for facts in self.entity_facts(question, entity, limit, history)]

    def entity_facts(
        self, question: str, entity: str | None = None, limit: int = 3, history: Sequence[Any] = ()
    ) -> list[EntityFacts]:
        snapshot = self.index.current()
        linked = [link.entity for link in self.read(question, history).links if link.strength >= LINKED]
        subjects = list(dict.fromkeys(([entity] if entity else []) + linked))
        return [snapshot.graph.facts(s) for s in subjects if s in snapshot.graph.entities][:limit]

    def catalog_facts(self, question: str, history: Sequence[Any] = ()) -> list[CatalogFact]:
        """What the catalog graph answers to the question exactly, when it is one the graph answers."""
        snapshot = self.index.current()
        reading = self.read(question, history)
        return catalog_facts(snapshot.graph, snapshot.vocabulary, reading, reading.asked)

    @staticmethod
    def _lead_with_entity_text(snapshot: CatalogSnapshot, hits: list[Hit]) -> list[Hit]:
        """An entity matched through a part of its API definition still shows who owns it and what it is."""
        led = []
        for hit in hits:
            if hit.metadata.get("chunk") == DEFINITION and hit.entity in snapshot.entity_chunk:
                hit = replace(hit, text=f"{snapshot.entity_text(hit.entity)}\n\n{hit.text}")
            led.append(hit)
        return led

    def catalog_summary(self, limit: int = 200) -> dict[str, list[str]]:
        """The refs a generated catalog file may use as owner, system or domain."""
        snapshot = self.index.current()
        plural = {"group": "groups", "user": "users", "system": "systems", "domain": "domains"}
        by_kind: dict[str, list[str]] = {name: [] for name in plural.values()}
        for entity, metadata in sorted(snapshot.entities.items()):
            name = plural.get(str(metadata.get("kind")))
            if name and len(by_kind[name]) < limit:
                by_kind[name].append(entity)
        return by_kind

    def definition(self, entity: str) -> str:
        """An API entity's definition, reassembled from its chunks."""
        chunks = self.kb.get(where={"$and": [{"entity": entity}, {"chunk": DEFINITION}]})
        chunks.sort(key=lambda hit: int(hit.metadata.get("part", 0)))
        return "\n".join(hit.text.split(":\n", 1)[-1] for hit in chunks)
