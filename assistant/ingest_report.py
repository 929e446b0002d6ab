"""What one ingest did to one source, and where the latest run's report is kept for /api/status."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

LAST_INGEST_FILE = "last-ingest.json"  # in the data dir: the report of the latest ingest, for /api/status


@dataclass
class IngestReport:
    """What one sync did, in documents (chunks) of one source."""

    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    kept: int = 0  # gone from the source, but kept because the part that held them failed to read
    skipped: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    failed: bool = False  # the source could not be read; its stored documents were left as they were
    failed_units: list[dict[str, Any]] = field(default_factory=list)  # parts that kept their old documents
    warnings: list[dict[str, Any]] = field(default_factory=list)
    entities_by_kind: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every warning, and a big catalog can have tens of thousands.
        return {item.name: getattr(self, item.name) for item in fields(self)}
