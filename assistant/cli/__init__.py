"""The `assistant` command: ingest, serve, ask, eval, prompts, feedback, mcp. A composition root: builds everything
from `Settings`. Heavy imports (torch, Chroma, Gradio) happen inside the commands that need them, so `--help`
stays fast.
"""

from assistant.cli import answering, feedback_commands, ingesting, prompt_commands, serving  # noqa: F401 - they register
from assistant.cli.app import app, main

__all__ = ["app", "main"]
