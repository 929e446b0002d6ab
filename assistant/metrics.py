"""The service's Prometheus metrics: answers, latencies, backend errors, feedback, and the knowledge base.

Counters and histograms are observed in this process (each replica exports its own). The knowledge base's
size and the last ingest are read at scrape time, because the ingest often runs in another process.
"""

from __future__ import annotations

import calendar
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from assistant.ingest_report import LAST_INGEST_FILE

log = logging.getLogger(__name__)

# Seconds: retrieval is tens of milliseconds, a first token from a cold local model can take a minute.
RETRIEVAL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
ANSWER_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)


def read_last_ingest(data_dir: Path) -> dict[str, Any] | None:
    """The report of the latest ingest (what /api/status shows), or None when there is none or it is unreadable."""
    try:
        report = json.loads((data_dir / LAST_INGEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def _epoch(text: Any) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


class KnowledgeCollector(Collector):
    """Gauges computed on each scrape from the knowledge base and the last ingest's report."""

    def __init__(self, chunks: Callable[[], int], last_ingest: Callable[[], dict[str, Any] | None]) -> None:
        self._chunks = chunks
        self._last_ingest = last_ingest
        self._last_success: float | None = None  # survives a failed run that replaced the report

    def collect(self) -> Iterator[Metric]:
        try:
            chunks: float | None = float(self._chunks())
        except Exception as error:  # the knowledge base is down: leave the gauge out rather than fail the scrape
            log.warning("metrics: cannot count the knowledge base: %s", error)
            chunks = None
        if chunks is not None:
            yield GaugeMetricFamily("assistant_knowledge_chunks", "Chunks in the knowledge base", value=chunks)
        report = self._last_ingest()
        if report is None:
            return
        units = report.get("failed_units")
        sources = report.get("sources")
        failed = len(units) if isinstance(units, list) else 0
        failed += (
            sum(1 for source in sources if isinstance(source, dict) and source.get("failed"))
            if isinstance(sources, list)
            else 0
        )
        yield GaugeMetricFamily(
            "assistant_ingest_last_failed_units",
            "Units (sources, files, entities, TechDocs sites) that failed in the last ingest",
            value=failed,
        )
        success = _epoch(report.get("last_success_at"))
        if success is not None:
            self._last_success = max(success, self._last_success or 0)
        if self._last_success is not None:
            yield GaugeMetricFamily(
                "assistant_ingest_last_success_timestamp_seconds",
                "When the last ingest that succeeded finished (Unix time)",
                value=self._last_success,
            )


class Metrics:
    """One registry per app (tests build many apps in one process); HTTP metrics come from Litestar's."""

    def __init__(self, chunks: Callable[[], int], last_ingest: Callable[[], dict[str, Any] | None]) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.answers = Counter(
            "assistant_answers", "Answers given", ["prompt", "backend", "outcome"], registry=registry
        )
        self.retrieval_seconds = Histogram(
            "assistant_retrieval_seconds", "Time to the sources", buckets=RETRIEVAL_BUCKETS, registry=registry
        )
        self.first_token_seconds = Histogram(
            "assistant_first_token_seconds",
            "Time from the question to the first token",
            ["backend"],
            buckets=ANSWER_BUCKETS,
            registry=registry,
        )
        self.answer_seconds = Histogram(
            "assistant_answer_seconds",
            "Time from the question to the end of the answer",
            ["backend"],
            buckets=ANSWER_BUCKETS,
            registry=registry,
        )
        self.backend_errors = Counter(
            "assistant_backend_errors", "Answers the backend failed", ["backend", "code"], registry=registry
        )
        self.feedback = Counter(
            "assistant_feedback", "Ratings given to answers", ["prompt", "rating"], registry=registry
        )
        registry.register(KnowledgeCollector(chunks, last_ingest))

    def observe_answer(self, record: dict[str, Any]) -> None:
        """An `AnswerObserver`: counts the final record and its timings."""
        prompt = str((record.get("prompt") or {}).get("name", ""))
        backend = str(record.get("backend", ""))
        error = record.get("error")
        if error:
            outcome = "error"
            self.backend_errors.labels(backend, str(error.get("code", "unknown"))).inc()
        else:
            outcome = "ok" if record.get("answer") else "empty"
        self.answers.labels(prompt, backend, outcome).inc()
        timings = record.get("timings") or {}
        if timings.get("retrieval_ms") is not None:
            self.retrieval_seconds.observe(timings["retrieval_ms"] / 1000)
        if timings.get("first_token_ms") is not None:
            self.first_token_seconds.labels(backend).observe(timings["first_token_ms"] / 1000)
        if timings.get("total_ms") is not None and not error:
            self.answer_seconds.labels(backend).observe(timings["total_ms"] / 1000)

    def observe_feedback(self, prompt: str, rating: str) -> None:
        self.feedback.labels(prompt, rating).inc()

    def exposition(self) -> bytes:
        """Prometheus' text format: this app's metrics, then the process-wide ones (HTTP, process, GC)."""
        return generate_latest(self.registry) + generate_latest(REGISTRY)
