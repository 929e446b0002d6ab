"""One ingest as configured: which sources, the lock, the report file. Used by the CLI and the admin endpoint."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.ingest_report import LAST_INGEST_FILE
from assistant.knowledge import KnowledgeBase
from assistant.settings import Settings
from ingest.pipeline import FAILED, IngestRun, run_ingest
from ingest.sources.base import Source
from ingest.sources.local_files import LocalFilesSource

log = logging.getLogger(__name__)
_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """`30m`, `1h`, `2h30m`, `90s` -> seconds."""
    parts = _DURATION.findall(text.strip().lower())
    if not parts or _DURATION.sub("", text.strip().lower()).strip():
        raise ValueError(f"'{text}' is not a duration like 30m, 1h or 2h30m")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in parts)
    if seconds < 10:
        raise ValueError("run at most every 10 seconds")
    return float(seconds)


def configured_sources(
    settings: Settings, paths: Sequence[Path], backstage: bool, techdocs: bool = True
) -> tuple[list[Source], Callable[[], None]]:
    """The sources to read, and a function that closes their connections."""
    sources: list[Source] = [LocalFilesSource(path) for path in paths]
    closers: list[Callable[[], None]] = []
    if backstage:
        from ingest.sources.backstage_catalog import BackstageCatalogSource
        from ingest.sources.backstage_client import BackstageClient
        from ingest.sources.backstage_techdocs import BackstageTechDocsSource

        token = settings.backstage_token.get_secret_value() if settings.backstage_token else None
        client = BackstageClient(
            settings.backstage_url,
            token,
            timeout=settings.backstage_timeout_seconds,
            retries=settings.backstage_retries,
            page_size=settings.backstage_page_size,
        )
        closers.append(client.close)
        sources.append(BackstageCatalogSource(client, settings.backstage_kinds))
        if techdocs:
            sources.append(BackstageTechDocsSource(client))

    def close_all() -> None:
        for close in closers:
            close()

    return sources, close_all


def _previous_success(path: Path) -> str | None:
    try:
        return json.loads(path.read_text()).get("last_success_at")
    except (OSError, ValueError, AttributeError):
        return None


def ingest_once(
    kb: KnowledgeBase,
    settings: Settings,
    paths: Sequence[Path],
    backstage: bool,
    techdocs: bool = True,
    wait: float = 0,
    show_progress: bool = False,
    strict: bool = False,
) -> IngestRun:
    """Run one ingest under the lock and keep its report in the data dir (shown at /api/status)."""
    sources, close = configured_sources(settings, paths, backstage, techdocs)
    try:
        run = run_ingest(kb, sources, settings.data_dir / "ingest.lock", wait, show_progress, strict)
    finally:
        close()
    path = settings.data_dir / LAST_INGEST_FILE
    finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report: dict[str, Any] = {
        **run.to_dict(),
        "ok": run.ok,
        "finished_at": finished,
        # a run that synced (even with problems) is a success; a failed one keeps the previous success's time
        "last_success_at": finished if run.status != FAILED else _previous_success(path),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report, indent=2))
    temporary.replace(path)  # readers never see half a report
    return run
