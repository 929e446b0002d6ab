"""`assistant ask`, `assistant backends` and `assistant eval`: the answer pipeline and retrieval from the terminal."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
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


@app.command("eval")
def evaluate_retrieval(
    questions: Annotated[Path, typer.Option("--questions", "-q", help="JSONL question set (question, expected)")],
    k: Annotated[int, typer.Option("--k", help="Sources considered per question")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    min_recall: Annotated[float | None, typer.Option(help="Exit 1 when recall@k is below this")] = None,
    min_mrr: Annotated[float | None, typer.Option(help="Exit 1 when MRR is below this")] = None,
    min_recall_at_1: Annotated[float | None, typer.Option(help="Exit 1 when recall@1 is below this")] = None,
) -> None:
    """Measure retrieval on a question set against the current knowledge base (no LLM): recall@k and MRR.

    A line with `history` is a follow-up: it is retrieved with its conversation, as the chat page and the
    compatible APIs retrieve it."""
    from assistant.core import open_knowledge_base
    from assistant.evaluation import evaluate, load_questions
    from assistant.retrieval import Retriever

    items = load_questions(questions)
    retriever = Retriever(open_knowledge_base(current_settings()))
    report = evaluate(lambda text, n, history: retriever.retrieve(text, n, history=history), items, k)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(
            f"{report.questions} questions, k={k}: recall@{k} {report.recall_at_k:.3f}, "
            + (f"recall@1 {report.recall_at_1:.3f}, " if k > 1 else "")
            + f"MRR {report.mrr:.3f}"
        )
        for miss in report.misses:
            typer.echo(f"  missed: {miss['question']}")
            typer.echo(f"    expected {', '.join(json.dumps(e) for e in miss['expected'])}")
            typer.echo(
                f"    got      {', '.join(g['entity'] + ('#' + g['page'] if 'page' in g else '') for g in miss['got'])}"
            )
    below = (
        (min_recall is not None and report.recall_at_k < min_recall)
        or (min_recall_at_1 is not None and report.recall_at_1 < min_recall_at_1)
        or (min_mrr is not None and report.mrr < min_mrr)
    )
    if below:
        targets = f"recall@{k} >= {min_recall}, recall@1 >= {min_recall_at_1}, MRR >= {min_mrr}"
        typer.secho(f"below target ({targets})", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
