"""From a question to ranked, distinct sources: dense similarity fused with BM25 keyword scores.

Each entity and each TechDocs page counts once, its best chunk standing for it. A chunk's score is
`DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * bm25 / best_bm25`: meaning from MiniLM, exact words from
BM25 over the chunk text plus the entity's name, title and tags (so `ollama-web-ui`, `ben.wilcock` and
`tagged pci` are matched even when embeddings blur them). Parameters were chosen on a broad plateau
across two catalogs (see benchmarks/retrieval.py), not per question.

The same in-memory index holds the catalog graph: entities named in a question bring their relations,
forward and reverse, as facts for the prompt; a question about a relation ("which services use X?", see
`assistant.relations`) ranks the entities whose records state it; an entity scope covers the entity and
its neighbours.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from assistant.documents import DEFINITION, ENTITY, Hit
from assistant.knowledge import KnowledgeBase
from assistant.relations import Edge, asked_relations, edges_of, matching_edges

log = logging.getLogger(__name__)

DENSE_WEIGHT = 0.5
BM25_K1 = 0.9  # term-frequency saturation: a name said twice is not twice as relevant
BM25_B = 0.4  # mild length normalisation: long TechDocs sections are not punished for being thorough
CANDIDATES = 50  # chunks taken from each signal before fusion
CHECK_INTERVAL_SECONDS = 2.0
MIN_LABEL_CHARS = 3
# Relation answers are scored a small step above (or below) the source they are placed against, and keep
# their order among themselves by their own score.
RELATION_STEP = 1e-3

_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "should",
        "tell",
        "that",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "about",
        "there",
        "after",
        "each",
    }
)
# The keys of an API definition are its syntax (`responses:`, `schema:`, `required:`), not what it is about:
# "who is responsible for X" must not match every OpenAPI document through the stem of `responses`.
_DEFINITION_KEY = re.compile(r"^\s*(?:-\s*)?[\"']?[A-Za-z_$][\w$-]*[\"']?\s*:(?=\s|$)", re.MULTILINE)
_WORD = re.compile(r"[a-z0-9]+(?:[.\-_'][a-z0-9]+)*")

# relation field -> (forward label, reverse label), for facts read by the model
RELATION_LABELS = {
    "owner": ("owned by", "owns"),
    "system": ("part of system", "has part"),
    "domain": ("in domain", "has system"),
    "subcomponentOf": ("subcomponent of", "has subcomponent"),
    "dependsOn": ("depends on", "is a dependency of"),
    "dependencyOf": ("is a dependency of", "depends on"),
    "providesApis": ("provides API", "is provided by"),
    "consumesApis": ("consumes API", "is consumed by"),
    "memberOf": ("member of", "has member"),
    "parent": ("child group of", "parent group of"),
    "children": ("parent group of", "child group of"),
    "members": ("has member", "member of"),
}


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


_stem = _stemmer()


def tokenize(text: str) -> list[str]:
    """Lower-case stemmed words; compound names are kept whole as well as split (`ollama-web-ui`)."""
    tokens: list[str] = []
    for word in _WORD.findall(text.lower()):
        parts = [part for part in re.split(r"[.\-_']", word) if part and part not in _STOPWORDS]
        tokens += _stem.stemWords(parts)
        if "." in word or "-" in word or "_" in word:
            tokens.append(word)
    return tokens


def normalise_label(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass
class CatalogSnapshot:
    """What retrieval keeps in memory from one generation of the knowledge base."""

    generation: str
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metadatas: list[dict[str, Any]] = field(default_factory=list)
    bm25: Any = None
    labels: dict[str, set[str]] = field(default_factory=dict)
    label_pattern: re.Pattern[str] | None = None
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    related: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    edges: dict[str, list[Edge]] = field(default_factory=dict)
    entity_chunk: dict[str, str] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    entity_of: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))

    @classmethod
    def build(cls, generation: str, chunks: Iterable[tuple[str, str, dict[str, Any]]]) -> CatalogSnapshot:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import
        snapshot = cls(generation)
        corpus: list[list[str]] = []
        for doc_id, text, metadata in chunks:
            snapshot.ids.append(doc_id)
            snapshot.texts.append(text)
            snapshot.metadatas.append(metadata)
            tags = metadata.get("tags") if isinstance(metadata.get("tags"), list) else []
            extra = [str(metadata.get(key) or "") for key in ("name", "title", "page_title", "section")]
            words = _DEFINITION_KEY.sub("", text) if metadata.get("chunk") == DEFINITION else text
            corpus.append(tokenize(" ".join([words, *extra, *tags])))
            if metadata.get("chunk") == ENTITY:
                snapshot._add_entity(metadata)
                snapshot.entity_chunk[str(metadata.get("entity", ""))] = doc_id
        snapshot.position = {doc_id: n for n, doc_id in enumerate(snapshot.ids)}
        snapshot.entity_of = np.array([str(m.get("entity", "")) for m in snapshot.metadatas], dtype=object)
        if corpus:
            snapshot.bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
            snapshot.bm25.index(corpus, show_progress=False)
        longest_first = sorted(snapshot.labels, key=len, reverse=True)
        if longest_first:
            alternatives = "|".join(re.escape(label) for label in longest_first)
            snapshot.label_pattern = re.compile(rf"(?<![a-z0-9])({alternatives})(?![a-z0-9])")
        return snapshot

    def _add_entity(self, metadata: dict[str, Any]) -> None:
        entity = str(metadata.get("entity", ""))
        self.entities[entity] = metadata
        for label in (metadata.get("name"), metadata.get("title")):
            key = normalise_label(str(label or ""))
            if len(key) >= MIN_LABEL_CHARS:
                self.labels.setdefault(key, set()).add(entity)
        for relation in metadata.get("relations") or []:
            field_name, _, target = str(relation).partition(":")
            forward, reverse = RELATION_LABELS.get(field_name, (field_name, f"{field_name} of"))
            self.related.setdefault(entity, []).append((forward, target))
            self.related.setdefault(target, []).append((reverse, entity))
        for edge in edges_of(entity, list(metadata.get("relations") or [])):
            self.edges.setdefault(edge.subject, []).append(edge)
            if edge.object != edge.subject:
                self.edges.setdefault(edge.object, []).append(edge)

    def bm25_scores(self, question: str) -> np.ndarray:
        tokens = tokenize(question)
        if self.bm25 is None or not tokens:
            return np.zeros(len(self.ids))
        return np.asarray(self.bm25.get_scores(tokens), dtype=float)

    def named(self, question: str) -> list[str]:
        """Entities whose name or title the question spells out (longest match wins: `backchat plugin`)."""
        return list(dict.fromkeys(entity for entity, _, _ in self.named_spans(normalise_label(question))))

    def named_spans(self, normalised: str) -> list[tuple[str, int, int]]:
        """Each named entity with where the normalised question names it."""
        if self.label_pattern is None:
            return []
        return [
            (entity, match.start(), match.end())
            for match in self.label_pattern.finditer(normalised)
            for entity in sorted(self.labels[match.group(1)])
        ]

    def neighbours(self, entity: str) -> set[str]:
        return {other for _, other in self.related.get(entity, [])}

    def facts(self, entity: str) -> str:
        """One line of what the catalog graph says about an entity, both directions."""
        metadata = self.entities.get(entity, {})
        grouped: dict[str, list[str]] = {}
        for label, other in self.related.get(entity, []):
            grouped.setdefault(label, []).append(other)
        parts = [f"{label} {', '.join(sorted(set(others)))}" for label, others in grouped.items()]
        title = metadata.get("title") or metadata.get("name") or entity
        return f"{entity} ({title}): " + ("; ".join(parts) if parts else "no relations in the catalog")


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


class Retriever:
    """Ranks distinct sources for a question; the one place where retrieval gets smart."""

    def __init__(self, kb: KnowledgeBase, candidates: int = CANDIDATES, refresh_in_background: bool = False) -> None:
        self.kb = kb
        self.candidates = candidates
        self.index = CatalogIndex(kb, refresh_in_background=refresh_in_background)

    def scope(self, entity: str) -> set[str]:
        """An entity and what it relates to: what a page embedded on that entity's page is about."""
        return {entity} | self.index.current().neighbours(entity)

    def retrieve(self, question: str, k: int, entity: str | None = None) -> list[Hit]:
        snapshot = self.index.current()
        allowed = self.scope(entity) if entity else None
        where = {"entity": {"$in": sorted(allowed)}} if allowed else None
        normalised = normalise_label(question)
        spans = snapshot.named_spans(normalised)
        named = {name for name, _, _ in spans}
        related = self._related_by_question(snapshot, normalised, spans, allowed)
        vector = self.kb.embedder.embed_query(question)
        dense = dict(self.kb.nearest(vector, self.candidates, where))
        lexical = snapshot.bm25_scores(question)
        position = snapshot.position
        if allowed is not None and len(lexical):
            lexical = np.where(np.isin(snapshot.entity_of, list(allowed)), lexical, 0.0)
        top_lexical = [snapshot.ids[i] for i in top_indices(lexical, self.candidates)]
        # Named and related entities are scored even when neither signal brought their text (a team that
        # owns thousands of entities brings the first `candidates` of them).
        pointed = sorted(related, key=lambda e: related[e].placement)[: self.candidates]
        must_score = [snapshot.entity_chunk[e] for e in (*named, *pointed) if e in snapshot.entity_chunk]
        missing = [doc_id for doc_id in dict.fromkeys(top_lexical + must_score) if doc_id not in dense]
        if allowed is not None:
            missing = [doc_id for doc_id in missing if snapshot.entity_of[position[doc_id]] in allowed]
        query = np.asarray(vector)
        cosine = dict(dense)
        cosine.update({doc_id: float(np.dot(query, emb)) for doc_id, emb in self.kb.embeddings(missing).items()})
        best_lexical = max((lexical[position[d]] for d in cosine if d in position), default=0.0) or 1.0
        dense_rank = {doc_id: n for n, doc_id in enumerate(dense)}
        # chunks stored after the keyword index was built (the service rebuilds it in the background)
        unindexed = [doc_id for doc_id in cosine if doc_id not in position]
        newer = {hit.id: hit for hit in self.kb.get(ids=unindexed)} if unindexed else {}
        hits: list[Hit] = []
        for doc_id, similarity in cosine.items():
            keyword = lexical[position[doc_id]] / best_lexical if doc_id in position else 0.0
            if doc_id in position:
                n = position[doc_id]
                hit = Hit(doc_id, snapshot.texts[n], dict(snapshot.metadatas[n]), 0.0)
            elif doc_id in newer:
                hit = newer[doc_id]
            else:
                continue
            reasons = []
            if hit.entity in named and hit.metadata.get("chunk") == ENTITY:
                reasons.append("named in the question")
            if keyword >= 0.5:
                reasons.append("matching words")
            if dense_rank.get(doc_id, self.candidates) < 10:
                reasons.append("similar meaning")
            score = DENSE_WEIGHT * similarity + (1 - DENSE_WEIGHT) * keyword
            hits.append(replace(hit, score=score, reason=" + ".join(reasons) or "related"))
        ranked = follow_relations(best_per_source(hits, len(hits)), related)
        return self._lead_with_entity_text(snapshot, ranked[:k])

    @staticmethod
    def _related_by_question(
        snapshot: CatalogSnapshot, normalised: str, spans: list[tuple[str, int, int]], allowed: set[str] | None
    ) -> dict[str, Pointer]:
        """The entities a relation question points at, and where each should rank."""
        related: dict[str, Pointer] = {}
        # Only a question whose question word is the relation's other end ("which services use X?") moves
        # anything: in "which version of kafka does X use in production?" the relation words are incidental.
        for ask in (ask for ask in asked_relations(normalised, spans) if ask.direct):
            for edge in matching_edges(ask, snapshot.edges.get(ask.entity, [])):
                if edge.stated_by != ask.entity:
                    # its own record states the answer; first when it is what the question word asks for
                    target = edge.stated_by
                    kind = str(snapshot.entities.get(target, {}).get("kind", ""))
                    placement = FIRST if not ask.kinds or kind in ask.kinds else ABOVE
                else:
                    target, placement = (edge.object if edge.subject == ask.entity else edge.subject), BELOW
                reason = f"catalog: {edge.describe()}"
                if placement == BELOW and ask.complete:  # "who owns X?": X's own record is the answer
                    _point(related, ask.entity, Pointer(ask.entity, FIRST, reason))
                if allowed is None or target in allowed:
                    _point(related, target, Pointer(ask.entity, placement, reason))
        return related

    def facts(self, question: str, entity: str | None = None, limit: int = 3) -> list[str]:
        """What the catalog graph says about the entities the question names (or the scoped entity)."""
        snapshot = self.index.current()
        named = snapshot.named(question)
        subjects = list(dict.fromkeys(([entity] if entity else []) + named))[:limit]
        return [snapshot.facts(subject) for subject in subjects if subject in snapshot.entities]

    @staticmethod
    def _lead_with_entity_text(snapshot: CatalogSnapshot, hits: list[Hit]) -> list[Hit]:
        """An entity matched through a part of its API definition still shows who owns it and what it is."""
        led = []
        for hit in hits:
            entity_chunk = snapshot.entity_chunk.get(hit.entity) if hit.metadata.get("chunk") == DEFINITION else None
            if entity_chunk is not None:
                hit = replace(hit, text=f"{snapshot.texts[snapshot.position[entity_chunk]]}\n\n{hit.text}")
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


def top_indices(scores: np.ndarray, n: int) -> list[int]:
    """Indices of the `n` highest positive scores, best first, without sorting the whole array."""
    candidates = np.argpartition(-scores, n)[:n] if len(scores) > n else np.arange(len(scores))
    return [int(i) for i in candidates[np.argsort(-scores[candidates])] if scores[i] > 0]


FIRST, ABOVE, BELOW = 0, 1, 2


def _point(related: dict[str, Pointer], entity: str, pointer: Pointer) -> None:
    """Keep the strongest placement an entity is given."""
    if entity not in related or pointer.placement < related[entity].placement:
        related[entity] = pointer


@dataclass(frozen=True)
class Pointer:
    """Where a relation question puts an entity: first, or just above or below the entity it names."""

    anchor: str
    placement: int
    reason: str


def follow_relations(ranked: list[Hit], related: dict[str, Pointer]) -> list[Hit]:
    """Move the entities a relation question points at: the records that state the relation it asks about
    ("which frontend talks to ollama?" -> `ollama-web-ui`) first, or just above the entity it names when
    the question word is not their kind; the other ends of the relation just below that entity.

    When records go first, the entity the question names follows the best of them: its own page is where
    a reader goes next, and what some would call the answer ("what is in the billing system?")."""
    before = {hit.source_key: hit.score for hit in ranked}
    pointed = {
        hit.entity: related[hit.entity]
        for hit in ranked
        if hit.page is None and hit.entity in related and (related[hit.entity].anchor, None) in before
    }
    if not pointed:
        return ranked
    top = ranked[0].score
    # `pointed` is in ranking order, so its first FIRST is the best-ranked record that states the relation
    lead = next((entity for entity, pointer in pointed.items() if pointer.placement == FIRST), None)
    after = dict(before)
    for hit in ranked:  # the records that state the relation, and the named entity behind the best of them
        if hit.page is not None:
            continue
        pointer, key = pointed.get(hit.entity), hit.source_key
        if hit.entity == lead:
            after[key] = top + 3 * RELATION_STEP
        elif pointer and pointer.placement == FIRST:
            after[key] = top + RELATION_STEP * (1 + hit.score)
        elif pointer and pointer.placement == ABOVE:
            after[key] = before[(pointer.anchor, None)] + RELATION_STEP * (1 + hit.score)
        elif lead is not None and hit.entity == pointed[lead].anchor:
            after[key] = top + 2.5 * RELATION_STEP
    for hit in ranked:  # the other ends, below where the named entity now stands
        pointer = pointed.get(hit.entity) if hit.page is None else None
        if pointer and pointer.placement == BELOW:
            after[hit.source_key] = after[(pointer.anchor, None)] - RELATION_STEP * (2 - hit.score)
    moved = []
    for hit in ranked:
        pointer = pointed.get(hit.entity) if hit.page is None else None
        reason = f"{pointer.reason} + {hit.reason}" if pointer else hit.reason
        moved.append(replace(hit, score=max(hit.score, after[hit.source_key]), reason=reason))
    return sorted(moved, key=lambda hit: hit.score, reverse=True)


def best_per_source(hits: Iterable[Hit], k: int) -> list[Hit]:
    """The `k` best distinct sources (entity, or entity + TechDocs page), each by its best chunk."""
    best: dict[tuple[str, str | None], Hit] = {}
    for hit in hits:
        key = hit.source_key
        if key not in best or hit.score > best[key].score:
            best[key] = hit
    return sorted(best.values(), key=lambda hit: hit.score, reverse=True)[:k]
