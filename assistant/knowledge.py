"""The knowledge base: one Chroma collection plus the embedder that fills it.

Embeddings are always computed here: the collection has no embedding function, so Chroma's own default
(which downloads a model) can never run.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.documents import ENTITY, Document, Hit
from assistant.embeddings import Embedder
from assistant.errors import KnowledgeBaseError
from assistant.ingest_report import IngestReport
from assistant.settings import Settings
from assistant.sync_plan import Stored, plan_sync

log = logging.getLogger(__name__)

_PAGE = 1000  # ids fetched per `get` call when listing what a source has stored
# Chunks per Chroma write: its cost per chunk falls by about a third from 256 to 2048 a call.
WRITE_BATCH = 2048


def open_chroma(data_dir: Path, chroma_url: str | None) -> Any:
    """An embedded `PersistentClient` under the data dir, or an `HttpClient` for a Chroma server."""
    import chromadb

    settings = chromadb.Settings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=settings,
            )
        except Exception as error:
            raise KnowledgeBaseError(
                f"Chroma server at {chroma_url} is not answering ({error}); start it or fix ASSISTANT_CHROMA_URL"
            ) from None
    path = data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def open_knowledge_base(settings: Settings) -> KnowledgeBase:
    """The configured store and embedder; the model itself loads on first use."""
    embedder = Embedder(settings.embedding_model, batch_size=settings.embedding_batch_size)
    return KnowledgeBase(open_chroma(settings.data_dir, settings.chroma_url), embedder, settings.collection)


class KnowledgeBase:
    """Stores documents with their embeddings, syncs a source incrementally and searches by meaning."""

    def __init__(self, client: Any, embedder: Embedder, collection_name: str) -> None:
        self.embedder = embedder
        self._client = client
        self._collection = client.get_or_create_collection(
            collection_name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )

    @property
    def collection(self) -> Any:
        return self._collection

    def stored(self, source_name: str) -> dict[str, Stored]:
        """What the store holds of `source_name`, by id: fingerprints and units, no texts or vectors."""
        stored: dict[str, Stored] = {}
        for doc_id, metadata in self.iter_metadata({"source": source_name}):
            stored[doc_id] = Stored(
                fingerprint=f"{metadata.get('content_hash')}|{metadata.get('embedding_model')}",
                unit=str(metadata.get("unit") or ""),
                entity=str(metadata.get("entity") or ""),
                chunk=str(metadata.get("chunk") or ""),
            )
        return stored

    def sync(
        self,
        source_name: str,
        documents: Iterable[Document],
        progress: Callable[[int, int], None] | None = None,
        protected_units: Collection[str] = (),
        stored: Mapping[str, Stored] | None = None,
    ) -> IngestReport:
        """Make the stored documents of `source_name` equal to `documents`.

        Unchanged documents (same id and content hash) are not re-embedded; stored documents of this source
        that are not in `documents` are deleted, except those of `protected_units` (parts of the source that
        could not be read this time, see `sync_plan`). Writing a batch overlaps with embedding the next.
        `stored` is what `stored(source_name)` returned, when the caller listed it already.
        """
        started = time.perf_counter()
        report = IngestReport(source=source_name)
        wanted: dict[str, Document] = {}
        for document in documents:
            if document.id in wanted:
                report.errors.append(f"duplicate document id {document.id}; the later one is kept")
            wanted[document.id] = document
        model = self.embedder.name
        stored = self.stored(source_name) if stored is None else stored
        plan = plan_sync(wanted, stored, model, protected_units)
        # Ids are entity refs, so another source may hold one of "this source's new" ids: then every write
        # upserts. Only when this source is all the collection holds is a new id surely absent.
        addable = plan.new_ids if self._collection.count() == len(stored) else set()
        report.added, report.unchanged = plan.added, plan.unchanged
        report.updated = len(plan.embed) - plan.added
        report.kept = len(plan.kept)
        limit = self._client.get_max_batch_size()
        batch_size = min(self.embedder.batch_size * 8, limit)
        write_size = min(WRITE_BATCH, limit)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-write") as writer:
            pending: Future[None] | None = None
            ready: list[tuple[Document, list[float]]] = []
            for batch in _batches(plan.embed, batch_size):
                ready += zip(batch, self.embedder.embed_documents([doc.text for doc in batch]), strict=True)
                report.chunks_embedded += len(batch)
                if len(ready) >= write_size or report.chunks_embedded == len(plan.embed):
                    if pending is not None:
                        pending.result()  # at most one write in flight; an error stops the sync here
                    pending = writer.submit(self._write, ready, addable, source_name, model)
                    ready = []
                if progress is not None:
                    progress(report.chunks_embedded, len(plan.embed))
                else:
                    log.info("%s: embedded %d/%d chunks", source_name, report.chunks_embedded, len(plan.embed))
            if pending is not None:
                pending.result()
        for batch in _batches(plan.relabel, batch_size):
            self._collection.update(
                ids=[doc.id for doc in batch], metadatas=[_stored_metadata(doc, source_name, model) for doc in batch]
            )
        for batch in _batches(plan.delete, batch_size):
            self._collection.delete(ids=batch)
        report.deleted = len(plan.delete)
        if plan.embed or plan.delete:
            self._bump_generation()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _write(
        self, embedded: list[tuple[Document, list[float]]], new_ids: Collection[str], source_name: str, model: str
    ) -> None:
        """New ids are added, changed ones upserted: `add` skips the lookup `upsert` makes per id."""
        new = [pair for pair in embedded if pair[0].id in new_ids]
        changed = [pair for pair in embedded if pair[0].id not in new_ids]
        for pairs, write in ((new, self._collection.add), (changed, self._collection.upsert)):
            if pairs:
                write(
                    ids=[doc.id for doc, _ in pairs],
                    embeddings=[vector for _, vector in pairs],
                    documents=[doc.text for doc, _ in pairs],
                    metadatas=[_stored_metadata(doc, source_name, model) for doc, _ in pairs],
                )

    def _bump_generation(self) -> None:
        """Mark the collection changed, so that indexes built from it (keywords, names) rebuild."""
        self._collection.modify(metadata={"generation": uuid.uuid4().hex})

    def generation(self) -> str:
        """Changes whenever a sync changed anything, in this process or another one."""
        collection = self._client.get_collection(self._collection.name)
        return str((collection.metadata or {}).get("generation", "")) + f"/{collection.count()}"

    def search(self, query: str, k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        """The `k` chunks closest in meaning to `query`, best first; score is cosine similarity."""
        return self.search_by_vector(self.embedder.embed_query(query), k, where)

    def nearest(self, vector: list[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Ids and cosine similarity of the `k` nearest chunks, without their text: retrieval holds the text
        in memory already, and fetching it from the store costs more than the search itself."""
        result = self._collection.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        return [
            (doc_id, 1.0 - float(distance))
            for doc_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def search_by_vector(self, vector: list[float], k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        result = self._collection.query(
            query_embeddings=[vector],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(id=doc_id, text=text or "", metadata=dict(metadata or {}), score=1.0 - float(distance))
            for doc_id, text, metadata, distance in zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
                strict=True,
            )
        ]

    def embeddings(self, ids: list[str]) -> tuple[list[str], np.ndarray]:
        """The stored vectors of these chunks (those the store has), one row each, in the order of the ids
        returned."""
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        result = self._collection.get(ids=ids, include=["embeddings"])
        return list(result["ids"]), np.asarray(result["embeddings"], dtype=np.float32)

    def all_chunks(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every stored chunk's id, text and metadata, page by page (for in-memory indexes)."""
        offset = 0
        while True:
            batch = self._collection.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            for doc_id, text, metadata in zip(batch["ids"], batch["documents"], batch["metadatas"], strict=True):
                yield doc_id, text or "", dict(metadata or {})
            if len(batch["ids"]) < _PAGE:
                return
            offset += _PAGE

    def get(self, where: dict[str, Any] | None = None, ids: list[str] | None = None) -> list[Hit]:
        """Stored chunks by id or metadata filter, unscored."""
        result = self._collection.get(ids=ids, where=where, include=["documents", "metadatas"])
        return [
            Hit(id=doc_id, text=text or "", metadata=dict(metadata or {}), score=0.0, reason="catalog match")
            for doc_id, text, metadata in zip(result["ids"], result["documents"], result["metadatas"], strict=True)
        ]

    def iter_metadata(self, where: dict[str, Any] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every stored chunk's id and metadata, page by page."""
        offset = 0
        while True:
            batch = self._collection.get(where=where, include=["metadatas"], limit=_PAGE, offset=offset)
            yield from zip(batch["ids"], (dict(m or {}) for m in batch["metadatas"]), strict=True)
            if len(batch["ids"]) < _PAGE:
                return
            offset += _PAGE

    def holds(self, source_name: str) -> bool:
        """Whether anything of `source_name` is stored (a first ingest of it embeds everything)."""
        return bool(self._collection.get(where={"source": source_name}, limit=1, include=[])["ids"])

    def entity_refs(self) -> set[str]:
        """The refs of every entity stored, whatever its source (ids only: an entity's id is its ref)."""
        return set(self._collection.get(where={"chunk": ENTITY}, include=[])["ids"])

    def count(self) -> int:
        return int(self._collection.count())

    def stats(self) -> dict[str, Any]:
        """Chunk counts by source and by chunk kind."""
        by_source: dict[str, int] = {}
        by_chunk: dict[str, int] = {}
        for _, metadata in self.iter_metadata():
            source = str(metadata.get("source", "?"))
            chunk = str(metadata.get("chunk", "?"))
            by_source[source] = by_source.get(source, 0) + 1
            by_chunk[chunk] = by_chunk.get(chunk, 0) + 1
        return {
            "chunks": sum(by_source.values()),
            "by_source": by_source,
            "by_chunk": by_chunk,
            "embedding_model": self.embedder.name,
        }


def _stored_metadata(document: Document, source_name: str, model: str) -> dict[str, Any]:
    extra = {"unit": document.unit} if document.unit else {}
    return {
        **document.metadata,
        **extra,
        "source": source_name,
        "content_hash": document.content_hash,
        "embedding_model": model,
    }


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
