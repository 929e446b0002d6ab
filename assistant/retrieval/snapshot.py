"""What retrieval keeps in memory from one generation of the knowledge base, and keeping it current.

The snapshot holds the chunks' text and metadata, the keyword index, the catalog graph, its vocabulary and
the entity linker built on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.catalog.graph import CatalogGraph
from assistant.catalog.linking import EntityLinker
from assistant.catalog.vocabulary import Vocabulary
from assistant.documents import ENTITY
from assistant.knowledge import KnowledgeBase
from assistant.retrieval.keywords import KeywordIndex, chunk_terms, tokenize

log = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 2.0


@dataclass
class CatalogSnapshot:
    generation: str
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metadatas: list[dict[str, Any]] = field(default_factory=list)
    keywords: KeywordIndex = field(default_factory=lambda: KeywordIndex([]))
    graph: CatalogGraph = field(default_factory=CatalogGraph)
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    linker: EntityLinker = field(default_factory=lambda: EntityLinker(Vocabulary()))
    entity_chunk: dict[str, str] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    entity_of: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    _record_terms: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, generation: str, chunks: Iterable[tuple[str, str, dict[str, Any]]]) -> CatalogSnapshot:
        snapshot = cls(generation)
        corpus: list[list[str]] = []
        for doc_id, text, metadata in chunks:
            snapshot.ids.append(doc_id)
            snapshot.texts.append(text)
            snapshot.metadatas.append(metadata)
            corpus.append(chunk_terms(text, metadata))
            if metadata.get("chunk") == ENTITY:
                snapshot.graph.add(metadata)
                snapshot.entity_chunk[str(metadata.get("entity", ""))] = doc_id
        snapshot.position = {doc_id: n for n, doc_id in enumerate(snapshot.ids)}
        snapshot.entity_of = np.array([str(m.get("entity", "")) for m in snapshot.metadatas], dtype=object)
        snapshot.keywords = KeywordIndex(corpus)
        snapshot.vocabulary = Vocabulary.of_graph(snapshot.graph)
        snapshot.linker = EntityLinker(snapshot.vocabulary)
        return snapshot

    @property
    def entities(self) -> dict[str, dict[str, Any]]:
        return self.graph.entities

    @property
    def related(self) -> dict[str, list[tuple[str, str]]]:
        return self.graph.related

    def bm25_scores(self, question: str) -> np.ndarray:
        return self.keywords.scores(question)

    def describes(self, entity: str, word_stem: str) -> bool:
        """Whether the entity's record uses a word (by stem)."""
        if entity not in self._record_terms:
            self._record_terms[entity] = frozenset(tokenize(self.entity_text(entity)))
        return word_stem in self._record_terms[entity]

    def entity_text(self, entity: str) -> str:
        chunk = self.entity_chunk.get(entity)
        return self.texts[self.position[chunk]] if chunk in self.position else ""


class CatalogIndex:
    """Keeps a `CatalogSnapshot` in step with the knowledge base across ingests, in any process.

    With `refresh_in_background` (the service), a changed knowledge base is re-indexed on a thread while
    questions keep being answered from the previous snapshot: rebuilding takes seconds on a large catalog,
    and a scheduled ingest must not stall every question asked meanwhile. Meanwhile a chunk that is gone has
    no embedding left to score, a new chunk is found by vector search (its text read from the store), and
    a changed chunk is quoted as it was until the new snapshot lands, seconds later.
    """

    def __init__(
        self, kb: KnowledgeBase, check_interval: float = CHECK_INTERVAL_SECONDS, refresh_in_background: bool = False
    ) -> None:
        self._kb = kb
        self._check_interval = check_interval
        self._background = refresh_in_background
        self._lock = threading.Lock()
        self._snapshot: CatalogSnapshot | None = None
        self._checked_at = 0.0
        self._refresh: threading.Thread | None = None

    def current(self) -> CatalogSnapshot:
        with self._lock:
            now = time.monotonic()
            if self._snapshot is not None and now - self._checked_at < self._check_interval:
                return self._snapshot
            self._checked_at = now
            generation = self._kb.generation()
            if self._snapshot is not None and self._snapshot.generation == generation:
                return self._snapshot
            if self._snapshot is None or not self._background:
                self._snapshot = CatalogSnapshot.build(generation, self._kb.all_chunks())
            elif self._refresh is None or not self._refresh.is_alive():
                self._refresh = threading.Thread(
                    target=self._rebuild, args=(generation,), name="keyword-index", daemon=True
                )
                self._refresh.start()
            return self._snapshot

    def _rebuild(self, generation: str) -> None:
        try:
            snapshot = CatalogSnapshot.build(generation, self._kb.all_chunks())
        except Exception as error:  # the next check tries again; meanwhile the last snapshot serves
            log.warning("rebuilding the keyword index failed: %s", error)
            return
        with self._lock:
            self._snapshot = snapshot
