"""The app factory: one Litestar app with the API and the Gradio chat page on the same port.

A composition root: it alone imports both the core and the `ui` package.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from litestar import Litestar, asgi
from litestar.openapi import OpenAPIConfig
from litestar.types import Receive, Scope, Send

from assistant import __version__
from assistant.api import api_dependencies, error_response, route_handlers
from assistant.core import Core, build_core
from assistant.errors import AssistantError
from assistant.ollama_api import OllamaController
from assistant.openai_api import OpenAIController
from assistant.settings import Settings

log = logging.getLogger(__name__)


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

    from ui.chat import CSS, build_chat_page

    page = build_chat_page(core.answerer, core.prompts, core.backends)
    gradio_app = gr.mount_gradio_app(
        fastapi.FastAPI(openapi_url=None, docs_url=None, redoc_url=None),
        page,
        path="/",
        footer_links=[],
        root_path=core.settings.root_path or None,
        run_history=False,
        css=CSS,
    )

    @asgi("/", is_mount=True, copy_scope=True, include_in_schema=False)
    async def chat_page(scope: Scope, receive: Receive, send: Send) -> None:
        await gradio_app(_unmounted_scope(scope), receive, send)

    @contextlib.asynccontextmanager
    async def gradio_lifespan(_: Litestar) -> AsyncIterator[None]:
        async with gradio_app.router.lifespan_context(gradio_app):
            yield

    return chat_page, gradio_lifespan


def create_app(settings: Settings, core: Core | None = None, chat_page: bool = True) -> Litestar:
    core = core or build_core(settings)
    handlers: list[Any] = [*route_handlers, OpenAIController, OllamaController]
    lifespan: list[Any] = []
    if chat_page:
        page_handler, page_lifespan = _mount_chat_page(core)
        handlers.append(page_handler)
        lifespan.append(page_lifespan)
    app = Litestar(
        route_handlers=handlers,
        dependencies=api_dependencies(core),
        exception_handlers={AssistantError: error_response},
        request_max_body_size=settings.max_request_chars * 8,  # characters, in UTF-8 and JSON escapes
        lifespan=lifespan,
        openapi_config=OpenAPIConfig(title="Backchat Assistant", version=__version__, path="/schema"),
    )
    app.state.core = core
    return app
