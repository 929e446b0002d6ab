"""The app factory: one Litestar app with the API and the Gradio chat page on the same port.

A composition root: it alone imports both the core and the `ui` package.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from litestar import Litestar, asgi
from litestar.exceptions import TooManyRequestsException
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from assistant import __version__
from assistant.api import IngestConflict, api_dependencies, error_response, route_handlers
from assistant.core import Core, build_core
from assistant.errors import AssistantError, InvalidRequest
from assistant.ollama_api import OllamaController
from assistant.openai_api import OpenAIController
from assistant.rate_limit import rate_limit_middleware, too_many_requests
from assistant.readiness import Readiness
from assistant.settings import Settings

log = logging.getLogger(__name__)


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


def _mount_chat_page(core: Core) -> tuple[Any, Any]:
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


def _warm_up(readiness: Readiness) -> Any:
    """Load the embedder, the keyword index and the in-process model in the background at start (seconds on a
    big catalog), so no question pays for it; `/readyz` says what is still loading, health checks answer."""

    @contextlib.asynccontextmanager
    async def warm(_: Litestar) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=readiness.run, args=(stop,), name="warm-up", daemon=True)
        thread.start()
        yield
        stop.set()
        # Never leave it running into interpreter shutdown: torch aborts the process if it is mid-call.
        await asyncio.to_thread(thread.join, 60)

    return warm


def _start_parts(core: Core) -> dict[str, Any]:
    """What `assistant serve` loads before it says it is ready."""
    parts: dict[str, Any] = {
        "embedding model": lambda: core.kb.embedder.embed_query("warm up"),
        "keyword index": core.retriever.index.current,
    }
    default = core.backends.get()
    if default.type == "llamacpp":
        parts[f"model of backend {default.name}"] = default.warm_up
    return parts


def _ingestor(core: Core) -> Any:
    """One ingest of the configured sources (ASSISTANT_SOURCES, and Backstage with ASSISTANT_INGEST_BACKSTAGE)."""

    def run() -> dict[str, Any]:
        from ingest.pipeline import IngestBusy
        from ingest.runner import ingest_once

        settings = core.settings
        if not settings.sources and not settings.ingest_backstage:
            raise InvalidRequest("nothing to ingest: set ASSISTANT_SOURCES or ASSISTANT_INGEST_BACKSTAGE=true")
        try:
            run = ingest_once(core.kb, settings, settings.sources, settings.ingest_backstage)
        except IngestBusy as error:
            raise IngestConflict(str(error)) from None
        return {**run.to_dict(), "ok": run.ok}

    return run


def create_app(settings: Settings, core: Core | None = None, chat_page: bool = True) -> Litestar:
    core = core or build_core(settings)
    handlers: list[Any] = [*route_handlers, OpenAIController, OllamaController]
    lifespan: list[Any] = []
    if chat_page:
        page_handler, page_lifespan = _mount_chat_page(core)
        handlers.append(page_handler)
        lifespan.append(page_lifespan)
    readiness = Readiness(_start_parts(core))
    lifespan.insert(0, _warm_up(readiness))
    app = Litestar(
        route_handlers=handlers,
        dependencies=api_dependencies(core, _ingestor(core)),
        exception_handlers={AssistantError: error_response, TooManyRequestsException: too_many_requests(settings)},
        request_max_body_size=settings.max_request_chars * 8,  # characters, in UTF-8 and JSON escapes
        lifespan=lifespan,
        middleware=[frame_ancestors(settings.frame_ancestors), *rate_limit_middleware(settings)],
        openapi_config=OpenAPIConfig(title="Backchat Assistant", version=__version__, path="/schema"),
    )
    app.state.core = core
    app.state.readiness = readiness
    return app
