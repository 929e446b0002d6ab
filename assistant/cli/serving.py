"""`assistant serve` (HTTP API and chat page) and `assistant mcp` (the MCP tools over stdio)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.app import app, current_settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: ASSISTANT_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: ASSISTANT_PORT)")] = None,
) -> None:
    """Serve the HTTP API and the chat page on one port."""
    import uvicorn

    from assistant.app import create_app

    overrides = {key: value for key, value in {"host": host, "port": port}.items() if value is not None}
    settings = current_settings(**overrides)
    application = create_app(settings)
    typer.echo(f"chat page: http://{settings.host}:{settings.port}/   API docs: /schema", err=True)
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info", root_path=settings.root_path)


@app.command("mcp")
def mcp_stdio() -> None:
    """Serve the MCP tools (search, get_entity, ask) and prompts over stdio, for agents that start a process."""
    from assistant.core import build_core
    from assistant.errors import ConfigError
    from assistant.mcp_server import mcp_for

    settings = current_settings()
    if settings.permissions == "backstage":
        raise ConfigError(
            "assistant mcp (stdio) has no caller whose Backstage permissions could be checked: with "
            "ASSISTANT_PERMISSIONS=backstage, agents use /mcp over HTTP with the user's Backstage token"
        )
    import anyio

    core = build_core(settings)
    server = mcp_for(core)

    async def serve() -> None:
        try:
            await server.run_stdio_async()
        finally:  # the agent closed the pipe: close the connections pooled to model servers
            await core.backends.aclose()

    anyio.run(serve)
