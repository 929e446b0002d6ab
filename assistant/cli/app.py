"""The `assistant` command itself: its options, settings and errors. The commands live beside it, one module
a group; `assistant.cli` imports them all so that they register on `app`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.errors import AssistantError
from assistant.settings import Settings, load_settings

app = typer.Typer(
    help="Backchat Assistant: answers questions about your Backstage catalog and TechDocs on local LLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: $ASSISTANT_CONFIG)", show_default=False),
]


class _State:
    config: Path | None = None


def current_settings(**overrides: Any) -> Settings:
    return load_settings(_State.config, **overrides)


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.callback()
def main_options(
    config: ConfigOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more detail")] = False,
) -> None:
    _State.config = config
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "chromadb", "sentence_transformers", "urllib3", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> None:
    """Console entry point: user errors become one clear line and exit code 2, not a traceback."""
    try:
        app()
    except AssistantError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        sys.exit(2)
