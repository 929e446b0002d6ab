"""The ingest run: read every source, then sync each; a part that fails keeps what it had, the rest syncs.

A source that cannot be read at all changes nothing of its own. A source read with failed units syncs
everything else and protects those units' stored documents. With `strict`, any failure changes nothing at
all, for teams that gate catalog changes in CI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from assistant.documents import ENTITY, Document
from assistant.ingest_report import IngestReport
from assistant.knowledge import KnowledgeBase
from ingest.problems import NO_DOCS, Problems
from ingest.references import dangling_references
from ingest.sources.base import Source, SourceError

log = logging.getLogger(__name__)

TOTALS = ("added", "updated", "unchanged", "deleted", "kept", "skipped", "chunks_embedded")

# The run's outcome, and the exit code the CLI gives it.
OK, PARTIAL, FAILED = "ok", "partial", "failed"


class IngestBusy(Exception):
    """Another ingest holds the lock."""


@dataclass
class IngestRun:
    reports: list[IngestReport] = field(default_factory=list)
    seconds: float = 0.0
    strict_blocked: bool = False  # --strict and something failed: nothing was synced

    @property
    def status(self) -> str:
        """`failed`: a source could not be read (or --strict refused); `partial`: some units failed."""
        if self.strict_blocked or any(report.failed for report in self.reports):
            return FAILED
        return PARTIAL if any(report.failed_units for report in self.reports) else OK

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_dict(self) -> dict[str, Any]:
        totals = {name: sum(getattr(r, name) for r in self.reports) for name in TOTALS}
        kinds: Counter[str] = Counter()
        for report in self.reports:
            kinds.update(report.entities_by_kind)
        warnings = [warning for report in self.reports for warning in report.warnings]
        return {
            "status": self.status,
            **totals,
            "seconds": round(self.seconds, 3),
            "entities_by_kind": dict(sorted(kinds.items())),
            "errors": [error for report in self.reports for error in report.errors],
            "failed_units": [unit for report in self.reports for unit in report.failed_units],
            "warnings": warnings,
            "warning_counts": dict(Counter(str(w["kind"]) for w in warnings)),
            "sources": [report.to_dict() for report in self.reports],
        }


def run_ingest(
    kb: KnowledgeBase,
    sources: Sequence[Source],
    lock_file: Path,
    wait: float = 0,
    show_progress: bool = False,
    strict: bool = False,
) -> IngestRun:
    """Sync every source in turn under an exclusive lock, so two ingests never interleave their writes."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_file))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise IngestBusy(f"another ingest is running (lock {lock_file}); try again when it has finished") from None
    try:
        return _run(kb, sources, show_progress, strict)
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
    entities = sum(1 for d in documents if d.metadata.get("chunk") == ENTITY)
    pages = len({(d.metadata.get("entity"), d.metadata.get("page")) for d in documents if d.metadata.get("page")})
    log.info("%s: read %d entities, %d TechDocs pages, %d chunks", source.name, entities, pages, len(documents))
    problems = problems_of(source)
    for problem in problems.failed:
        log.debug("%s: %s; it keeps what it had", source.name, problem)
    if problems.failed or problems.warnings:
        log.warning(
            "%s: %d part(s) failed and keep what they had, %d warning(s); see the report",
            source.name,
            len(problems.failed),
            len(problems.warnings),
        )
    return documents


def problems_of(source: Source) -> Problems:
    """What the source reported; a source that reports nothing had no problems."""
    return getattr(source, "problems", None) or Problems()


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


def _failed_source(source: Source, error: Exception, seconds: float) -> IngestReport:
    log.error("%s: %s; its documents are left as they were", source.name, error)
    return IngestReport(source=source.name, errors=[str(error)], failed=True, seconds=round(seconds, 3))


def _describe(report: IngestReport, problems: Problems, documents: list[Document]) -> None:
    report.failed_units = [problem.to_dict() for problem in problems.failed]
    report.errors += [str(problem) for problem in problems.failed]
    report.warnings = [problem.to_dict() for problem in problems.warnings]
    report.skipped = sum(1 for problem in problems.warnings if problem.kind == NO_DOCS)
    report.entities_by_kind = dict(
        Counter(str(doc.metadata.get("kind")) for doc in documents if doc.metadata.get("chunk") == ENTITY)
    )


def _preload_embedder(kb: KnowledgeBase, sources: Sequence[Source]) -> threading.Thread | None:
    """Load the embedding model while the sources are read, when a source is new to the store (it will
    certainly embed). A re-run decides from stored hashes first and loads the model only if it must."""
    if all(kb.holds(source.name) for source in sources):
        return None

    def load() -> None:
        try:
            kb.embedder.embed_documents(["warm up"])
        except Exception as error:  # the sync reports it, with its context, when it embeds
            log.debug("embedding model preload failed: %s", error)

    thread = threading.Thread(target=load, name="embedder-preload", daemon=True)
    thread.start()
    return thread


def _run(kb: KnowledgeBase, sources: Sequence[Source], show_progress: bool, strict: bool) -> IngestRun:
    run = IngestRun()
    started = time.perf_counter()
    preload = _preload_embedder(kb, sources)
    # What the store holds is listed while the sources are read: Chroma lists without holding the GIL.
    lister = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stored-listing")
    stored = {source.name: lister.submit(kb.stored, source.name) for source in sources}
    lister.shutdown(wait=False)
    readings: list[tuple[Source, list[Document] | SourceError, float]] = []
    try:
        for source in sources:  # read everything before touching the store
            source_started = time.perf_counter()
            try:
                readings.append((source, _read(source, show_progress), time.perf_counter() - source_started))
            except SourceError as error:
                readings.append((source, error, time.perf_counter() - source_started))
    finally:
        if preload is not None:
            preload.join()  # never leave torch mid-call behind: it aborts the process at exit
    failures = any(isinstance(read, SourceError) or problems_of(source).failed for source, read, _ in readings)
    run.strict_blocked = strict and failures
    synced: list[tuple[IngestReport, list[Document]]] = []
    for source, read, seconds in readings:
        if isinstance(read, SourceError):
            run.reports.append(_failed_source(source, read, seconds))
            continue
        if run.strict_blocked:
            report = IngestReport(source=source.name, errors=["not synced: --strict, and a part of the run failed"])
        else:
            protected = problems_of(source).protected_units
            bar = _embedding_bar(source) if show_progress else None
            report = kb.sync(source.name, read, bar, protected_units=protected, stored=stored[source.name].result())
            report.seconds = round(report.seconds + seconds, 3)
            synced.append((report, read))
        _describe(report, problems_of(source), read)
        run.reports.append(report)
    if synced:
        produced = {doc.id for _, documents in synced for doc in documents if doc.metadata.get("chunk") == ENTITY}
        everything = (doc for _, documents in synced for doc in documents)
        if next(dangling_references(everything, produced), None) is not None:
            known = produced | kb.entity_refs()  # only then is the whole store worth a look
            for report, documents in synced:
                report.warnings += [problem.to_dict() for problem in dangling_references(documents, known)]
    run.seconds = time.perf_counter() - started
    return run
