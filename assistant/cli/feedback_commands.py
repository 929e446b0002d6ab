"""`assistant feedback list | stats | export`: users' ratings of answers."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from assistant.cli.app import app, current_settings, fail

feedback_app = typer.Typer(
    help="Users' ratings of answers: list, stats per prompt version, export.", no_args_is_help=True
)
app.add_typer(feedback_app, name="feedback")


def _feedback_store() -> Any:
    from assistant.feedback import FeedbackStore

    settings = current_settings()
    return FeedbackStore(
        settings.feedback_url, settings.feedback_max_comment_chars, settings.feedback_keep_unrated_days
    )


@feedback_app.command("list")
def feedback_list(
    rating: Annotated[str | None, typer.Option(help="Only 'up' or only 'down'")] = None,
    limit: Annotated[int, typer.Option(help="Newest ratings shown")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """The newest ratings: when, up or down, the prompt version, the question and the comment."""
    if rating not in (None, "up", "down"):
        fail("--rating must be up or down", 2)
    entries = _feedback_store().entries(limit=limit, rating=rating)
    if as_json:
        typer.echo(json.dumps({"feedback": entries}, indent=2))
        return
    for entry in entries:
        prompt = f"{entry['prompt']['name']} v{entry['prompt']['version']}"
        when = str(entry["rated_at"])[:19].replace("T", " ")
        typer.echo(f"{when}  {entry['rating']:<4}  {prompt:<24} {entry['question'][:70]}")
        if entry["comment"]:
            typer.echo(f"    {entry['comment']}")


@feedback_app.command("stats")
def feedback_stats(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False) -> None:
    """Up and down counts and the share of ups per prompt name and version."""
    rows = _feedback_store().stats()
    if as_json:
        typer.echo(json.dumps({"prompts": rows}, indent=2))
        return
    typer.echo(f"{'prompt':<24} {'version':<8} {'up':>5} {'down':>5} {'up share':>9}")
    for row in rows:
        typer.echo(f"{row['prompt']:<24} {row['version']:<8} {row['up']:>5} {row['down']:>5} {row['up_share']:>9.0%}")


@feedback_app.command("export")
def feedback_export(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of one JSON object per line")] = False,
) -> None:
    """Every rating with its answer as given: question, answer, sources, prompt stamp, backend, model."""
    entries = _feedback_store().entries()
    if as_json:
        typer.echo(json.dumps(entries, indent=2))
        return
    for entry in entries:
        typer.echo(json.dumps(entry))
