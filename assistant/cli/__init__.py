"""The `assistant` command: ingest, serve, ask, eval, prompts, feedback, mcp. A composition root: builds everything
from `Settings`. Heavy imports (torch, Chroma, Gradio) happen inside the commands that need them, so `--help`
stays fast.
"""

from assistant.cli import (  # noqa: F401 - they register
    answering,
    evaluating,
    feedback_commands,
    ingesting,
    prompt_commands,
    serving,
)
from assistant.cli.app import app, main

__all__ = ["app", "main"]
