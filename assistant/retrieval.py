"""From a question to ranked, distinct sources: vector similarity fused with exact catalog-name matches.

Each entity and each TechDocs page counts once, its best chunk standing for it. Two rankings are fused
with reciprocal rank fusion (RRF): chunks by meaning, and entities whose name or title the question spells
out (embeddings blur names like `ollama-web-ui` or `ben.wilcock`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.documents import DEFINITION, ENTITY, Hit
from assistant.knowledge import KnowledgeBase

RRF_K = 60  # the usual constant: damps the weight of top ranks so that agreement between signals wins
NAME_INDEX_TTL_SECONDS = 30.0
MIN_NAME_CHARS = 3


@dataclass(frozen=True)
class NameMatch:
    entity: str
    start: int
    end: int


class NameIndex:
    """Entity names and titles from the knowledge base, matched as whole words in a question."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._count = -1
        self._names: dict[str, set[str]] = {}
        self._by_kind: dict[str, list[str]] = {}
        self._pattern: re.Pattern[str] | None = None

    def _refresh(self) -> None:
        count = self._kb.count()
        if count == self._count and time.monotonic() - self._loaded_at < NAME_INDEX_TTL_SECONDS:
            return
        names: dict[str, set[str]] = {}
        by_kind: dict[str, list[str]] = {}
        for _, metadata in self._kb.iter_metadata(where={"chunk": ENTITY}):
            entity = str(metadata.get("entity", ""))
            by_kind.setdefault(str(metadata.get("kind", "")), []).append(entity)
            for label in (metadata.get("name"), metadata.get("title")):
                label = str(label or "").strip().lower()
                if len(label) >= MIN_NAME_CHARS:
                    names.setdefault(label, set()).add(entity)
        longest_first = sorted(names, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, longest_first)) + r")(?![\w-])")
            if longest_first
            else None
        )
        self._names, self._count, self._loaded_at = names, count, time.monotonic()
        self._by_kind = {kind: sorted(refs) for kind, refs in by_kind.items()}

    def refs_of_kind(self, kind: str) -> list[str]:
        with self._lock:
            self._refresh()
            return list(self._by_kind.get(kind, []))

    def find(self, question: str) -> list[NameMatch]:
        """Entities named in the question; a name inside a longer matched name does not count."""
        with self._lock:
            self._refresh()
            pattern, names = self._pattern, self._names
        if pattern is None:
            return []
        found: list[NameMatch] = []
        # The alternation is longest-first and matches do not overlap, so "backchat plugin" wins over "backchat".
        for match in pattern.finditer(question.lower()):
            for entity in sorted(names[match.group(1)]):
                found.append(NameMatch(entity, match.start(), match.end()))
        return found


class Retriever:
    """Ranks distinct sources for a question; the one place where retrieval gets smart."""

    def __init__(self, kb: KnowledgeBase, candidates: int = 40) -> None:
        self.kb = kb
        self.candidates = candidates
        self.names = NameIndex(kb)

    def retrieve(self, question: str, k: int, entity: str | None = None) -> list[Hit]:
        where = {"entity": entity} if entity else None
        by_meaning = self.kb.search(question, self.candidates, where=where)
        named = [m.entity for m in self.names.find(question) if not entity or m.entity == entity]
        named_hits = self.kb.get(ids=list(dict.fromkeys(named))) if named else []
        hits = fuse([by_meaning, named_hits], ["similar meaning", "named in the question"], k)
        return self._lead_with_entity_text(hits)

    def _lead_with_entity_text(self, hits: list[Hit]) -> list[Hit]:
        """An entity matched through a part of its API definition still shows who owns it and what it is."""
        parts = {hit.id: hit.entity for hit in hits if hit.metadata.get("chunk") == DEFINITION}
        if not parts:
            return hits
        entities = {hit.id: hit for hit in self.kb.get(ids=list(set(parts.values())))}
        return [
            replace(hit, text=f"{entities[hit.entity].text}\n\n{hit.text}")
            if hit.id in parts and hit.entity in entities
            else hit
            for hit in hits
        ]

    def catalog_summary(self, limit: int = 200) -> dict[str, list[str]]:
        """The refs a generated catalog file may use as owner, system or domain."""
        plural = {"group": "groups", "user": "users", "system": "systems", "domain": "domains"}
        return {name: self.names.refs_of_kind(kind)[:limit] for kind, name in plural.items()}

    def definition(self, entity: str) -> str:
        """An API entity's definition, reassembled from its chunks."""
        chunks = self.kb.get(where={"$and": [{"entity": entity}, {"chunk": "definition"}]})
        chunks.sort(key=lambda hit: int(hit.metadata.get("part", 0)))
        return "\n".join(hit.text.split(":\n", 1)[-1] for hit in chunks)


def fuse(rankings: Sequence[Sequence[Hit]], reasons: Sequence[str], k: int) -> list[Hit]:
    """Reciprocal rank fusion over distinct sources; a source's text is its best-ranked chunk's."""
    scores: dict[tuple[str, str | None], float] = {}
    best: dict[tuple[str, str | None], Hit] = {}
    why: dict[tuple[str, str | None], list[str]] = {}
    for ranking, reason in zip(rankings, reasons, strict=True):
        seen: set[tuple[str, str | None]] = set()
        rank = 0
        for hit in ranking:
            key = hit.source_key
            if key in seen:
                continue
            seen.add(key)
            rank += 1
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
            why.setdefault(key, []).append(reason)
            if key not in best or (hit.score > best[key].score):
                best[key] = hit
    ordered = sorted(scores, key=lambda key: scores[key], reverse=True)[:k]
    top = scores[ordered[0]] if ordered else 1.0
    return [replace(best[key], score=scores[key] / top, reason=" + ".join(why[key])) for key in ordered]
