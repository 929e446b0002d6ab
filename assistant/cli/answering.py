"""`assistant ask` and `assistant backends`: the answer pipeline from the terminal."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer

from assistant.cli.app import app, current_settings


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question")],
    as_json: Annotated[bool, typer.Option("--json", help="Print only the final record as JSON")] = False,
    prompt: Annotated[str | None, typer.Option(help="Prompt template name")] = None,
    backend: Annotated[str | None, typer.Option(help="Configured backend name")] = None,
    model: Annotated[str | None, typer.Option(help="Model name on that backend")] = None,
    entity: Annotated[str | None, typer.Option(help="Limit retrieval to this entity (kind:namespace/name)")] = None,
    k: Annotated[int | None, typer.Option(help="How many sources to retrieve")] = None,
) -> None:
    """Answer one question, streaming to the terminal."""
    from assistant.answerer import DoneEvent, ErrorEvent, Question, SourcesEvent, TokenEvent
    from assistant.core import build_core

    core = build_core(current_settings())
    request = Question(question, prompt=prompt, backend=backend, model=model, entity=entity, k=k)

    async def run() -> dict[str, Any]:
        record: dict[str, Any] = {}
        try:
            async for event in core.answerer.answer(request):
                if isinstance(event, SourcesEvent) and not as_json:
                    typer.secho("Sources:", bold=True, err=True)
                    for number, source in enumerate(event.sources, 1):
                        typer.echo(f"  [{number}] {source.title} ({source.entity}) {source.url}", err=True)
                elif isinstance(event, TokenEvent) and not as_json:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
                elif isinstance(event, ErrorEvent):
                    typer.secho(f"\nerror ({event.code}): {event.message}", fg=typer.colors.RED, err=True)
                elif isinstance(event, DoneEvent):
                    record = event.record
        finally:
            await core.backends.aclose()
        return record

    record = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(record, indent=2))
    else:
        typer.echo("")
    if not record.get("complete"):
        raise typer.Exit(1)


@app.command()
def backends(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False) -> None:
    """Configured LLM backends: reachable or not, version and models. Exit 1 if the default one is down."""
    from assistant.llm.registry import BackendRegistry

    settings = current_settings()
    registry = BackendRegistry.from_settings(settings)

    async def check() -> list[Any]:
        return list(await asyncio.gather(*(backend.health() for backend in registry.all())))

    healths = asyncio.run(check())
    rows = []
    for backend, health in zip(registry.all(), healths, strict=True):
        rows.append(
            {
                **health.to_dict(),
                "default": backend.name == registry.default,
                "base_url": backend.config.base_url,
                "model": backend.default_model,
                "style": backend.style,
            }
        )
    if as_json:
        typer.echo(json.dumps({"backends": rows}, indent=2))
    else:
        for row in rows:
            state = (
                typer.style("up  ", fg=typer.colors.GREEN) if row["ok"] else typer.style("DOWN", fg=typer.colors.RED)
            )
            mark = "*" if row["default"] else " "
            where = row["base_url"] or "in-process"
            typer.echo(
                f"{mark} {row['name']:<14} {state} {row['type']:<9} {where}  model {row['model']} ({row['style']})"
            )
            if row["version"]:
                typer.echo(f"    version: {row['version']}")
            if row["models"]:
                typer.echo(f"    models:  {', '.join(row['models'][:20])}")
            if row["detail"]:
                typer.echo(f"    {row['detail']}")
    if not next(row["ok"] for row in rows if row["default"]):
        raise typer.Exit(1)
