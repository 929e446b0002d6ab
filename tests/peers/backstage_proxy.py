"""A reverse proxy that behaves like Backstage's proxy plugin: `/api/proxy/assistant/*` is forwarded to the
assistant with the prefix stripped, streaming both ways (the chat page streams answers over SSE).

Given a `backstage`, every other path goes there: the page and Backstage's own API then share one origin,
as they do behind a real Backstage backend (the page's sign-in asks `/api/auth/...` on its own origin).
"""

from __future__ import annotations

import httpx
from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send

from tests.peers.forwarding import forward, read_body

PREFIX = "/api/proxy/assistant"


def create_app(target: str, backstage: str | None = None) -> Litestar:
    client = httpx.AsyncClient(base_url=target, timeout=None)
    rest = httpx.AsyncClient(base_url=backstage, timeout=None) if backstage else None

    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope["raw_path"].decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        suffix = f"?{query}" if query else ""
        if raw.startswith(PREFIX) or rest is None:
            path = raw[len(PREFIX) :] or "/"
            await forward(client, scope, send, path + suffix, await read_body(receive))
        else:
            await forward(rest, scope, send, raw + suffix, await read_body(receive))

    mount = "/" if backstage else PREFIX
    return Litestar([asgi(mount, is_mount=True, copy_scope=True)(proxy)])
