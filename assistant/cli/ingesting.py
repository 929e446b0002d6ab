"""`assistant ingest`: sync sources into the knowledge base, once or on a schedule, and report."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.app import app, current_settings, fail


@app.command()
def ingest(
    source: Annotated[
        list[Path] | None,
        typer.Option(
            "--source",
            "-s",
            help="Catalog YAML file or folder (catalog files and mkdocs TechDocs); "
            "repeatable. Default: ASSISTANT_SOURCES",
        ),
    ] = None,
    backstage: Annotated[
        bool, typer.Option("--backstage", help="Read the catalog and TechDocs of ASSISTANT_BACKSTAGE_URL")
    ] = False,
    techdocs: Annotated[bool, typer.Option(help="With --backstage: also read published TechDocs")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object")] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for another running ingest")] = 0,
    every: Annotated[
        str | None, typer.Option(help="Run forever on this schedule, e.g. 30m or 1h (runs never overlap)")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Any failed file, entity or site changes nothing and exits 1")
    ] = False,
) -> None:
    """Read the sources and sync them into the knowledge base (unchanged documents are not re-embedded).

    Exit codes: 0 everything read; 4 synced with problems (some files, entities or TechDocs sites failed and
    kept what they had; the rest synced); 1 a source could not be read at all; 2 usage or configuration;
    3 another ingest holds the lock.
    """
    from assistant.knowledge import open_knowledge_base
    from ingest.pipeline import IngestBusy
    from ingest.runner import ingest_once, parse_every

    settings = current_settings()
    paths = list(source or ([] if backstage else settings.sources))
    if not paths and not backstage:
        fail(
            "nothing to ingest: pass --source PATH (a catalog file or folder), --backstage, or set ASSISTANT_SOURCES", 2
        )
    try:
        interval = parse_every(every) if every is not None else None
    except ValueError as error:
        fail(f"--every: {error}", 2)
        return
    kb = open_knowledge_base(settings)
    if interval is None:
        try:
            run = ingest_once(
                kb, settings, paths, backstage, techdocs, wait, show_progress=sys.stderr.isatty(), strict=strict
            )
        except IngestBusy as error:
            fail(str(error), 3)
            return
        _print_report(run, as_json)
        raise typer.Exit(INGEST_EXIT_CODES[run.status])
    # Runs never overlap: the next one starts after this one ends, at the next multiple of the interval.
    while True:
        started = time.monotonic()
        try:
            run = ingest_once(kb, settings, paths, backstage, techdocs, wait, strict=strict)
            _print_report(run, as_json)
        except IngestBusy as error:
            logging.getLogger("assistant.ingest").warning("%s; skipping this run", error)
        elapsed = time.monotonic() - started
        time.sleep(interval - elapsed % interval)


INGEST_EXIT_CODES = {"ok": 0, "partial": 4, "failed": 1}
WARNINGS_SHOWN_PER_KIND = 10


def _print_report(run: Any, as_json: bool) -> None:
    report = run.to_dict()
    if as_json:
        typer.echo(json.dumps(report))
        return
    for item in report["sources"]:
        state = "FAILED" if item["failed"] else ("synced with problems" if item["failed_units"] else "ok")
        typer.echo(
            f"{item['source']}: {state}; added {item['added']}, updated {item['updated']}, "
            f"unchanged {item['unchanged']}, deleted {item['deleted']}, kept {item['kept']}, "
            f"skipped {item['skipped']}; {item['chunks_embedded']} chunks embedded in {item['seconds']:.1f} s"
        )
    kinds = ", ".join(f"{count} {kind}" for kind, count in report["entities_by_kind"].items())
    if kinds:
        typer.echo(f"entities: {kinds}")
    if report["chunks_embedded"] == 0 and report["deleted"] == 0 and run.ok:
        typer.echo("nothing changed: no chunks embedded")
    for error in report["errors"]:
        typer.secho(f"  error: {error}", fg=typer.colors.RED, err=True)
    shown: dict[str, int] = {}
    for warning in report["warnings"]:  # a few of each kind; --json lists them all
        shown[warning["kind"]] = shown.get(warning["kind"], 0) + 1
        if shown[warning["kind"]] > WARNINGS_SHOWN_PER_KIND:
            continue
        where = ":".join(str(warning[key]) for key in ("file", "line") if warning.get(key))
        typer.secho(f"  warning: {where + ': ' if where else ''}{warning['message']}", fg=typer.colors.YELLOW, err=True)
    for kind, count in shown.items():
        if count > WARNINGS_SHOWN_PER_KIND:
            more = count - WARNINGS_SHOWN_PER_KIND
            note = f"  ... and {more} more {kind} warnings (--json lists them all)"
            typer.secho(note, fg=typer.colors.YELLOW, err=True)
    if report["warnings"]:
        counts = ", ".join(f"{count} {kind}" for kind, count in report["warning_counts"].items())
        typer.echo(f"warnings: {counts}")
    if report["failed_units"]:
        typer.echo(f"{len(report['failed_units'])} part(s) failed and kept what they had; the rest synced")
