"""A pass-through HTTP proxy that keeps every JSON request body: in front of a real server, it shows exactly
what the assistant sent while the real server does the answering (and the rejecting)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send

from tests.peers.forwarding import forward, read_body


def create_app(target: str) -> Litestar:
    """Forward everything to `target`; `app.state.requests` lists the JSON bodies received, in order."""
    client = httpx.AsyncClient(base_url=target, timeout=None)
    requests: list[dict[str, Any]] = []

    @asgi("/", is_mount=True, copy_scope=True)
    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        if body:
            requests.append(json.loads(body))
        await forward(client, scope, send, scope["raw_path"].decode(), body)

    app = Litestar([proxy])
    app.state.requests = requests
    return app
