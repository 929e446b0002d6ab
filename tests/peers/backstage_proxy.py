"""A reverse proxy that behaves like Backstage's proxy plugin: `/api/proxy/assistant/*` is forwarded to the
assistant with the prefix stripped, streaming both ways (the chat page streams answers over SSE)."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send

PREFIX = "/api/proxy/assistant"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


def create_app(target: str) -> Litestar:
    client = httpx.AsyncClient(base_url=target, timeout=None)

    @asgi(PREFIX, is_mount=True, copy_scope=True)
    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope["raw_path"].decode("latin-1")
        path = raw[len(PREFIX) :] or "/"
        query = scope.get("query_string", b"").decode("latin-1")
        body = bytearray()
        while True:
            message: Any = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.decode().lower() not in HOP_BY_HOP]
        request = client.build_request(
            scope["method"], path + (f"?{query}" if query else ""), headers=headers, content=bytes(body)
        )
        response = await client.send(request, stream=True)
        out = [(k.encode(), v.encode()) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        async for chunk in response.aiter_bytes():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        await response.aclose()

    return Litestar([proxy])
