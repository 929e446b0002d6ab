"""The Gradio chat page, mounted at `/` of the Litestar app, with the lifespan that starts Gradio's queue.

A composition root for the page: it alone (with the app factory) imports the `ui` package.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from litestar import Litestar, Request, Response
from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from assistant.core import Core
from assistant.feedback import Feedback
from assistant.web.middleware import frame_ancestors

# Paths of the service's own routes: a 404 there is the API's, never the page's.
API_PREFIXES = ("/api/", "/v1/", "/ollama/", "/mcp", "/schema", "/healthz", "/readyz", "/metrics")


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


class _HandOver(Response[None]):
    """A "response" that hands the request, unread, to another ASGI app."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(content=None)
        self.app = app

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        page = self.app

        async def hand_over(scope: Scope, receive: Receive, send: Send) -> None:
            await page(_unmounted_scope(scope), receive, send)

        return hand_over


def chat_page_fallback(
    core: Core, not_found: Any, feedback: Feedback | None = None
) -> tuple[dict[type[Exception], Any], Any]:
    """The Gradio page for every path no route matches, plus the lifespan that starts it.

    Not a Litestar mount at `/`: a root mount would shadow every route with a path parameter (and `/mcp`).
    Paths under the API's own prefixes keep their 404 from `not_found`. Litestar does not forward lifespan
    events to mounted apps, and Gradio's queue starts in its lifespan: so Litestar's lifespan runs Gradio's.
    """
    import fastapi
    import gradio as gr

    from ui.chat import CSS, HEAD, backstage_theme, build_chat_page
    from ui.sign_in import sign_in_head

    page = build_chat_page(core.answerer, core.prompts, core.backends, feedback, core.read_checker)
    head = HEAD
    if core.read_checker is not None:  # `backstage` permission mode: the page gets its user's Backstage token
        head += sign_in_head(core.settings.backstage_auth_provider, core.settings.backstage_auth_env)
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

    # App middleware runs inside matched routes only; the page is reached from the router's 404.
    page_app = frame_ancestors(core.settings.frame_ancestors)(with_head_script(gradio_app, head))

    # Gradio's page also calls itself at its public URL (`ASSISTANT_ROOT_PATH` and all), which may sit
    # under an API prefix (Backstage's `/api/proxy/...`).
    public_root = (core.settings.root_path or "").rstrip("/")

    def page_or_not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        path = request.scope["path"].removeprefix(str(request.scope.get("root_path") or ""))
        if path.startswith(API_PREFIXES) and not (public_root and path.startswith(public_root + "/")):
            return not_found(request, exc)
        return _HandOver(page_app)

    @contextlib.asynccontextmanager
    async def gradio_lifespan(_: Litestar) -> AsyncIterator[None]:
        async with gradio_app.router.lifespan_context(gradio_app):
            yield

    return {NotFoundException: page_or_not_found}, gradio_lifespan
