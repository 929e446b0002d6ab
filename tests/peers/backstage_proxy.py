"""A reverse proxy that behaves like Backstage's proxy plugin: `/api/proxy/assistant/*` is forwarded to the
assistant with the prefix stripped, streaming both ways (the chat page streams answers over SSE)."""

from __future__ import annotations

import httpx
from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send

from tests.peers.forwarding import forward, read_body

PREFIX = "/api/proxy/assistant"


def create_app(target: str) -> Litestar:
    client = httpx.AsyncClient(base_url=target, timeout=None)

    @asgi(PREFIX, is_mount=True, copy_scope=True)
    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope["raw_path"].decode("latin-1")
        path = raw[len(PREFIX) :] or "/"
        query = scope.get("query_string", b"").decode("latin-1")
        await forward(client, scope, send, path + (f"?{query}" if query else ""), await read_body(receive))

    return Litestar([proxy])
