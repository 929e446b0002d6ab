"""`assistant eval`: retrieval (recall@k, MRR; no model) or whole answers (`--answers`) over a set."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.app import app, current_settings, fail


@app.command("eval")
def evaluate(
    questions: Annotated[
        Path | None, typer.Option("--questions", "-q", help="JSONL retrieval set (question, expected, history)")
    ] = None,
    answers: Annotated[
        Path | None, typer.Option("--answers", "-a", help="JSONL answer set (question, must_mention, history)")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Sources considered per question (retrieval)")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    min_recall: Annotated[float | None, typer.Option(help="Exit 1 when recall@k is below this")] = None,
    min_mrr: Annotated[float | None, typer.Option(help="Exit 1 when MRR is below this")] = None,
    min_recall_at_1: Annotated[float | None, typer.Option(help="Exit 1 when recall@1 is below this")] = None,
    min_share: Annotated[
        float | None, typer.Option(help="Exit 1 when fewer answers mention what they must, or any citation is unknown")
    ] = None,
    prompt: Annotated[str | None, typer.Option(help="Prompt template for --answers")] = None,
    backend: Annotated[str | None, typer.Option(help="Configured backend for --answers")] = None,
) -> None:
    """Measure retrieval on a question set (no model): recall@k and MRR; or, with --answers, the whole
    pipeline on the configured backend: the share of answers that mention what they must.

    A line with `history` is a follow-up: it goes through the same path the chat page and the compatible
    APIs use."""
    if (questions is None) == (answers is None):
        fail("give exactly one of --questions FILE (retrieval) or --answers FILE (answers)", code=2)
    if answers is not None:
        evaluate_answer_set(answers, as_json, min_share, prompt, backend)
    else:
        assert questions is not None
        evaluate_retrieval(questions, k, as_json, min_recall, min_mrr, min_recall_at_1)


def evaluate_answer_set(
    file: Path, as_json: bool, min_share: float | None, prompt: str | None, backend: str | None
) -> None:
    from assistant.answer_eval import evaluate_answers, load_answer_set
    from assistant.core import build_core

    items = load_answer_set(file)
    core = build_core(current_settings())
    report = asyncio.run(evaluate_answers(core.answerer, items, prompt, backend))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(
            f"{report.questions} questions: {report.passed} answers mention what they must ({report.share:.0%}), "
            f"{report.unknown_citations} unknown citations, {report.errors} errors"
        )
        for miss in report.misses:
            typer.echo(f"  missed: {miss['question']}")
            if miss["missing"] or miss["error"]:
                typer.echo(f"    missing {', '.join(' or '.join(group) for group in miss['missing']) or '(error)'}")
            if miss["unknown_citations"]:
                typer.echo(f"    unknown citations {', '.join(map(str, miss['unknown_citations']))}")
            typer.echo(f"    answer  {miss['answer'][:300]!r}")
    if min_share is not None and (report.share < min_share or report.unknown_citations):
        typer.secho(f"below target (share >= {min_share}, no unknown citations)", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


def evaluate_retrieval(
    questions: Path,
    k: int,
    as_json: bool,
    min_recall: float | None,
    min_mrr: float | None,
    min_recall_at_1: float | None,
) -> None:
    """Measure retrieval on a question set against the current knowledge base (no LLM): recall@k and MRR.

    A line with `history` is a follow-up: it is retrieved with its conversation, as the chat page and the
    compatible APIs retrieve it."""
    from assistant.evaluation import evaluate, load_questions
    from assistant.knowledge import open_knowledge_base
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
