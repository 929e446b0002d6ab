"""The Gradio chat page, mounted at `/` of the Litestar app, with the lifespan that starts Gradio's queue.

A composition root for the page: it alone (with the app factory) imports the `ui` package.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from litestar import Litestar, asgi
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from assistant.core import Core


def with_head_script(app: ASGIApp, snippet: str) -> ASGIApp:
    """Put `snippet` first in the page's <head>, before Gradio's own scripts.

    Gradio adds its `head` option from JavaScript once its config has loaded: too late for a script that
    must run before Gradio touches localStorage. Only the page itself (a GET for HTML) is rewritten.
    """
    marker = b"<head>"
    payload = snippet.encode()

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        root = str(scope.get("root_path") or "")
        path = str(scope.get("path", "")).removeprefix(root)
        if scope["type"] != "http" or scope.get("method") != "GET" or path not in ("", "/"):
            await app(scope, receive, send)
            return
        # Ask for an uncompressed page so it can be edited; it is small.
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]
        start: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            content = bytes(body)
            kinds = [v for k, v in start.get("headers", []) if k.lower() == b"content-type"]
            if kinds and kinds[0].startswith(b"text/html") and marker in content:
                content = content.replace(marker, marker + payload, 1)
            out = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            out.append((b"content-length", str(len(content)).encode()))
            await send({**start, "headers": out})
            await send({"type": "http.response.body", "body": content, "more_body": False})

        await app({**scope, "headers": headers}, receive, capture)  # type: ignore[arg-type]

    return wrapped


def _unmounted_scope(scope: Scope) -> Scope:
    """The scope as the server sent it: Litestar's mount at `/` strips the path's slashes.

    Starlette (under Gradio) routes on `path` minus `root_path`, so `path` must carry the root path too.
    """
    raw = scope.get("raw_path") or b""
    path = unquote(raw.decode("latin-1")) if raw else "/" + str(scope["path"]).lstrip("/")
    root = str(scope.get("root_path") or "")
    if root and not path.startswith(root):
        path = root + path
    return {**scope, "path": path}  # type: ignore[return-value]


def mount_chat_page(core: Core) -> tuple[Any, Any]:
    """The Gradio page as an ASGI app, plus the lifespan that starts it.

    Litestar does not forward lifespan events to mounted apps, and Gradio's queue starts in its lifespan:
    so Litestar's own lifespan runs Gradio's.
    """
    import fastapi
    import gradio as gr

    from ui.chat import CSS, HEAD, backstage_theme, build_chat_page

    page = build_chat_page(core.answerer, core.prompts, core.backends)
    gradio_app = gr.mount_gradio_app(
        fastapi.FastAPI(openapi_url=None, docs_url=None, redoc_url=None),
        page,
        path="/",
        footer_links=[],
        root_path=core.settings.root_path or None,
        run_history=False,
        css=CSS,
        theme=backstage_theme(),
    )

    page_app = with_head_script(gradio_app, HEAD)

    @asgi("/", is_mount=True, copy_scope=True, include_in_schema=False)
    async def chat_page(scope: Scope, receive: Receive, send: Send) -> None:
        await page_app(_unmounted_scope(scope), receive, send)

    @contextlib.asynccontextmanager
    async def gradio_lifespan(_: Litestar) -> AsyncIterator[None]:
        async with gradio_app.router.lifespan_context(gradio_app):
            yield

    return chat_page, gradio_lifespan
