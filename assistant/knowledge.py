"""The knowledge base: one Chroma collection plus the embedder that fills it.

Embeddings are always computed here: the collection has no embedding function, so Chroma's own default
(which downloads a model) can never run.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from assistant.documents import Document, Hit
from assistant.embeddings import Embedder
from assistant.errors import KnowledgeBaseError

log = logging.getLogger(__name__)

_PAGE = 1000  # ids fetched per `get` call when listing what a source has stored
LAST_INGEST_FILE = "last-ingest.json"  # in the data dir: the report of the latest ingest, for /api/status


@dataclass
class IngestReport:
    """What one sync did, in documents (chunks) of one source."""

    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    failed: bool = False  # the source could not be read; its stored documents were left as they were

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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

    def _stored_fingerprints(self, source_name: str) -> dict[str, str]:
        """id -> content hash and embedding model: a document is unchanged only if both still match."""
        hashes: dict[str, str] = {}
        offset = 0
        while True:
            batch = self._collection.get(
                where={"source": source_name}, include=["metadatas"], limit=_PAGE, offset=offset
            )
            for doc_id, metadata in zip(batch["ids"], batch["metadatas"], strict=True):
                metadata = metadata or {}
                hashes[doc_id] = f"{metadata.get('content_hash')}|{metadata.get('embedding_model')}"
            if len(batch["ids"]) < _PAGE:
                return hashes
            offset += _PAGE

    def sync(
        self, source_name: str, documents: Iterable[Document], progress: Callable[[int, int], None] | None = None
    ) -> IngestReport:
        """Make the stored documents of `source_name` equal to `documents`.

        Unchanged documents (same id and content hash) are not re-embedded; stored documents of this source
        that are not in `documents` are deleted. Call it only with a source that was read completely.
        """
        started = time.perf_counter()
        report = IngestReport(source=source_name)
        wanted: dict[str, Document] = {}
        for document in documents:
            if document.id in wanted:
                report.errors.append(f"duplicate document id {document.id}; the later one is kept")
            wanted[document.id] = document
        stored = self._stored_fingerprints(source_name)
        model = self.embedder.name
        changed = [doc for doc in wanted.values() if stored.get(doc.id) != f"{doc.content_hash}|{model}"]
        report.added = sum(1 for doc in changed if doc.id not in stored)
        report.updated = len(changed) - report.added
        report.unchanged = len(wanted) - len(changed)
        batch_size = min(self.embedder.batch_size * 8, self._client.get_max_batch_size())
        for batch in _batches(changed, batch_size):
            embeddings = self.embedder.embed_documents([doc.text for doc in batch])
            self._collection.upsert(
                ids=[doc.id for doc in batch],
                embeddings=embeddings,
                documents=[doc.text for doc in batch],
                metadatas=[
                    {
                        **doc.metadata,
                        "source": source_name,
                        "content_hash": doc.content_hash,
                        "embedding_model": model,
                    }
                    for doc in batch
                ],
            )
            report.chunks_embedded += len(batch)
            if progress is not None:
                progress(report.chunks_embedded, len(changed))
            else:
                log.info("%s: embedded %d/%d chunks", source_name, report.chunks_embedded, len(changed))
        gone = [doc_id for doc_id in stored if doc_id not in wanted]
        for batch in _batches(gone, batch_size):
            self._collection.delete(ids=batch)
        report.deleted = len(gone)
        if changed or gone:
            self._bump_generation()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

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

    def embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        result = self._collection.get(ids=ids, include=["embeddings"])
        return {doc_id: list(vector) for doc_id, vector in zip(result["ids"], result["embeddings"], strict=True)}

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


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
