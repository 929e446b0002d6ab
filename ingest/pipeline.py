"""The ingest run: read each source completely, then sync it; a failed source changes nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from assistant.documents import Document
from assistant.knowledge import IngestReport, KnowledgeBase
from ingest.sources.base import Source, SourceError

log = logging.getLogger(__name__)

TOTALS = ("added", "updated", "unchanged", "deleted", "skipped", "chunks_embedded")


class IngestBusy(Exception):
    """Another ingest holds the lock."""


@dataclass
class IngestRun:
    reports: list[IngestReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(report.failed for report in self.reports)

    def to_dict(self) -> dict[str, Any]:
        totals = {name: sum(getattr(r, name) for r in self.reports) for name in TOTALS}
        errors = [error for report in self.reports for error in report.errors]
        return {
            **totals,
            "seconds": round(self.seconds, 3),
            "errors": errors,
            "sources": [report.to_dict() for report in self.reports],
        }


def run_ingest(
    kb: KnowledgeBase, sources: Sequence[Source], lock_file: Path, wait: float = 0, show_progress: bool = False
) -> IngestRun:
    """Sync every source in turn under an exclusive lock, so two ingests never interleave their writes."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_file))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise IngestBusy(f"another ingest is running (lock {lock_file}); try again when it has finished") from None
    try:
        return _run(kb, sources, show_progress)
    finally:
        lock.release()


def _read(source: Source, show_progress: bool) -> list[Document]:
    """All of a source's documents; a bar counts entities and TechDocs pages as they arrive on a terminal."""
    if not show_progress:
        documents = list(source.documents())
    else:
        from tqdm import tqdm

        documents = []
        with tqdm(desc=f"reading {source.name}", unit=" doc", leave=False) as bar:
            for document in source.documents():
                documents.append(document)
                bar.update(1)
    entities = sum(1 for d in documents if d.metadata.get("chunk") == "entity")
    pages = len({(d.metadata.get("entity"), d.metadata.get("page")) for d in documents if d.metadata.get("page")})
    log.info("%s: read %d entities, %d TechDocs pages, %d chunks", source.name, entities, pages, len(documents))
    return documents


def _embedding_bar(source: Source) -> Callable[[int, int], None]:
    from tqdm import tqdm

    bar: dict[str, tqdm] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=f"embedding {source.name}", unit=" chunk")
        bar["bar"].update(done - bar["bar"].n)
        if done >= total:
            bar["bar"].close()

    return update


def _run(kb: KnowledgeBase, sources: Sequence[Source], show_progress: bool = False) -> IngestRun:
    run = IngestRun()
    started = time.perf_counter()
    for source in sources:
        source_started = time.perf_counter()
        try:
            documents = _read(source, show_progress)  # read it all before touching the store
        except SourceError as error:
            log.error("%s: %s; its documents are left as they were", source.name, error)
            seconds = round(time.perf_counter() - source_started, 3)
            report = IngestReport(source=source.name, errors=[str(error)], failed=True, seconds=seconds)
            run.reports.append(report)
            continue
        report = kb.sync(source.name, documents, _embedding_bar(source) if show_progress else None)
        report.skipped = len(getattr(source, "skipped", []))
        run.reports.append(report)
    run.seconds = time.perf_counter() - started
    return run
