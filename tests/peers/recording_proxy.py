"""A pass-through HTTP proxy that keeps every JSON request body: in front of a real server, it shows exactly
what the assistant sent while the real server does the answering (and the rejecting)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


def create_app(target: str) -> Litestar:
    """Forward everything to `target`; `app.state.requests` lists the JSON bodies received, in order."""
    client = httpx.AsyncClient(base_url=target, timeout=None)
    requests: list[dict[str, Any]] = []

    @asgi("/", is_mount=True, copy_scope=True)
    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        while True:
            message: Any = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        if body:
            requests.append(json.loads(body))
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.decode().lower() not in HOP_BY_HOP]
        path = scope["raw_path"].decode()
        request = client.build_request(scope["method"], path, headers=headers, content=bytes(body))
        response = await client.send(request, stream=True)
        out = [(k.encode(), v.encode()) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        async for chunk in response.aiter_bytes():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        await response.aclose()

    app = Litestar([proxy])
    app.state.requests = requests
    return app
