"""The MCP server's streamable HTTP transport, mounted at `/mcp` behind the API key guard (and, in `backstage`
permission mode, the user token guard).

Litestar does not forward lifespan events to mounted apps, and the MCP session manager must run for the
service's lifetime: so Litestar's lifespan runs it, as it does Gradio's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, asgi
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Receive, Scope, Send

from assistant.errors import RequestTooLarge
from assistant.mcp_server import PortalMCP
from assistant.web.errors import exception_handlers, mcp_body
from assistant.web.guards import Guard
from assistant.web.readers import READS_CATALOG

MCP_PATH = "/mcp"


def body_limit(max_bytes: int) -> Guard:
    """Refuse a declared body over the limit in MCP's error shape (the SDK's own limit answers plain text)."""

    def within_limit(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        declared = connection.headers.get("content-length") or "0"
        if declared.isdigit() and int(declared) > max_bytes:
            raise RequestTooLarge(f"the request body has {declared} bytes; the limit is {max_bytes}")

    return within_limit


def mount_mcp(server: PortalMCP, guards: list[Guard], max_body_bytes: int) -> tuple[Any, Any]:
    """The `/mcp` route handler and the lifespan that runs the server's session manager."""
    server.streamable_http_app()  # creates the session manager; its Starlette routing is not needed here
    manager = server.session_manager

    @asgi(
        MCP_PATH,
        is_mount=True,
        copy_scope=True,
        guards=[*guards, body_limit(max_body_bytes)],
        exception_handlers=exception_handlers(mcp_body),
        include_in_schema=False,  # JSON-RPC, described by the MCP specification rather than OpenAPI
        opt=READS_CATALOG,
    )
    async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await manager.handle_request(scope, receive, send)  # type: ignore[arg-type]

    @contextlib.asynccontextmanager
    async def mcp_lifespan(_: Litestar) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return mcp_endpoint, mcp_lifespan
