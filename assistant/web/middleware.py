"""ASGI middleware for every response of the service (the API, the chat page, MCP)."""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send


def frame_ancestors(sources: list[str]) -> Any:
    """Every response says which origins may frame it (Backstage), and none says X-Frame-Options: DENY."""
    policy = ("frame-ancestors " + " ".join(sources)).encode()
    dropped = {b"x-frame-options", b"content-security-policy"}

    def middleware_factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            async def send_with_policy(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in dropped]
                    message = {**message, "headers": [*headers, (b"content-security-policy", policy)]}
                await send(message)

            await app(scope, receive, send_with_policy)

        return middleware

    return middleware_factory
