"""`assistant prompts list | show | check | render`: the prompt templates in prompts/."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.app import app, current_settings

prompts_app = typer.Typer(help="List, show, check and render the prompt templates in prompts/.", no_args_is_help=True)
app.add_typer(prompts_app, name="prompts")


def _prompts_dir(directory: Path | None) -> Path:
    return directory or current_settings().prompts_dir


DirOption = Annotated[Path | None, typer.Option("--dir", help="Templates folder (default: ASSISTANT_PROMPTS_DIR)")]


@prompts_app.command("list")
def prompts_list(directory: DirOption = None) -> None:
    """Name, version and description of every template; the default is marked with *."""
    from assistant.prompts import PromptLibrary

    settings = current_settings()
    library = PromptLibrary(_prompts_dir(directory))
    for template in library.templates():
        mark = "*" if template.name == settings.default_prompt else " "
        typer.echo(f"{mark} {template.name:<22} v{template.version:<6} {template.description}")
    for problem in library.problems:
        typer.secho(f"  not loaded: {problem}", fg=typer.colors.YELLOW, err=True)


@prompts_app.command("show")
def prompts_show(name: str, directory: DirOption = None) -> None:
    """A template's metadata and its file as written."""
    from assistant.prompts import PromptLibrary

    library = PromptLibrary(_prompts_dir(directory))
    template = library.get(name)
    typer.echo(
        json.dumps(
            {
                **library.stamp(template),
                "file": str(template.file),
                "description": template.description,
                "variables": list(template.variables),
                "temperature": template.temperature,
                "max_tokens": template.max_tokens,
                "stop": list(template.stop),
                "retrieval": template.retrieval,
            },
            indent=2,
        )
    )
    typer.echo(template.file.read_text(encoding="utf-8"))


@prompts_app.command("check")
def prompts_check(directory: DirOption = None) -> None:
    """Validate every template: front matter, variables, syntax, unique names. Exit 1 on any problem."""
    from assistant.prompt_templates import check_directory
    from assistant.prompts import PromptLibrary

    folder = _prompts_dir(directory)
    problems = check_directory(folder)
    for problem in problems:
        typer.secho(f"{problem}", fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(PromptLibrary(folder).names())} templates in {folder} are valid")


@prompts_app.command("render")
def prompts_render(
    name: str,
    question: Annotated[str, typer.Option("--question", "-q", help="The question to render")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the messages as JSON")] = False,
    retrieval: Annotated[bool, typer.Option(help="Retrieve sources from the knowledge base")] = True,
    entity: Annotated[str | None, typer.Option(help="Limit retrieval to this entity")] = None,
) -> None:
    """The exact messages (and base-model prompt) that would be sent for a question."""
    from assistant.answerer import Question
    from assistant.core import build_core

    settings = current_settings()
    core = build_core(settings)
    template = core.prompts.get(name)
    request = Question(question, prompt=name, entity=entity)

    async def run() -> Any:
        sources = await core.answerer.sources_for(request, template) if retrieval else []
        return await core.answerer.render(request, template, sources)

    rendered = asyncio.run(run())
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "prompt": core.prompts.stamp(template),
                    "messages": rendered.messages,
                    "completion": rendered.completion,
                },
                indent=2,
            )
        )
        return
    for message in rendered.messages:
        typer.secho(f"--- {message['role']} ---", bold=True)
        typer.echo(message["content"])
    typer.secho("--- completion (for base models) ---", bold=True)
    typer.echo(rendered.completion)
