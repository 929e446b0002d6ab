"""What the test proxies share: read a request body whole, and forward a request streaming the answer back."""

from __future__ import annotations

from typing import Any

import httpx
from litestar.types import Receive, Scope, Send

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


async def read_body(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message: Any = await receive()
        body.extend(message.get("body", b""))
        if not message.get("more_body"):
            return bytes(body)


async def forward(client: httpx.AsyncClient, scope: Scope, send: Send, path: str, body: bytes) -> None:
    """Send the request to `client`'s server at `path` and stream its response back, chunk by chunk."""
    headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.decode().lower() not in HOP_BY_HOP]
    request = client.build_request(scope["method"], path, headers=headers, content=body)
    response = await client.send(request, stream=True)
    out = [(k.encode(), v.encode()) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
    await send({"type": "http.response.start", "status": response.status_code, "headers": out})
    async for chunk in response.aiter_bytes():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    await response.aclose()
