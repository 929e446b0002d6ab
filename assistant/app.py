"""The app factory: one Litestar app with the API, the compatible APIs, MCP and the chat page on one port.

A composition root: it alone imports both the core and the `ui` package (through `assistant.web.page`).
Each front door is a router with its own guard and its own error shape; adding one is adding a router here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Router
from litestar.exceptions import TooManyRequestsException
from litestar.openapi import OpenAPIConfig

from assistant import __version__
from assistant.api import admin_handlers, route_handlers
from assistant.core import Core, build_core
from assistant.errors import IngestConflict, InvalidRequest
from assistant.instrumentation import instrument
from assistant.mcp_server import mcp_for
from assistant.ollama_api import OllamaController
from assistant.openai_api import OpenAIController
from assistant.rate_limit import rate_limit_middleware, too_many_requests
from assistant.readiness import Readiness
from assistant.settings import Settings
from assistant.web.dependencies import dependencies
from assistant.web.errors import (
    app_exception_handlers,
    exception_handlers,
    mcp_body,
    native_body,
    ollama_body,
    openai_body,
)
from assistant.web.guards import admin_guard, api_key_guard
from assistant.web.mcp_mount import MCP_PATH, mount_mcp
from assistant.web.middleware import frame_ancestors
from assistant.web.readers import reader_dependency, reader_guard

log = logging.getLogger(__name__)


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


def _backend_connections(core: Core) -> Any:
    """Close the connections pooled to model servers when the service stops."""

    @contextlib.asynccontextmanager
    async def pooled(_: Litestar) -> AsyncIterator[None]:
        yield
        await core.backends.aclose()

    return pooled


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


def front_doors(settings: Settings) -> list[Any]:
    """The routers of the API and the compatible APIs, each with its guard and its error shape."""
    keys = api_key_guard(settings.api_keys, settings.permissions == "backstage")
    return [
        *route_handlers,
        Router("/api/admin", route_handlers=admin_handlers, guards=admin_guard(settings.admin_token)),
        Router(
            "/v1", route_handlers=[OpenAIController], guards=keys, exception_handlers=exception_handlers(openai_body)
        ),
        Router(
            "/ollama/api",
            route_handlers=[OllamaController],
            guards=keys,
            exception_handlers=exception_handlers(ollama_body),
        ),
    ]


def create_app(settings: Settings, core: Core | None = None, chat_page: bool = True) -> Litestar:
    core = core or build_core(settings)
    observed = instrument(core)  # /metrics, /api/feedback, and the answerer's observers
    handlers: list[Any] = [*front_doors(settings), *observed.route_handlers]
    readiness = Readiness(_start_parts(core))
    lifespan: list[Any] = [_warm_up(readiness), _backend_connections(core)]
    max_body_bytes = settings.max_request_chars * 8  # characters, in UTF-8 and JSON escapes
    keys = api_key_guard(settings.api_keys, settings.permissions == "backstage")
    mcp_handler, mcp_lifespan = mount_mcp(mcp_for(core), keys, max_body_bytes)
    handlers.append(mcp_handler)
    lifespan.append(mcp_lifespan)
    errors = app_exception_handlers(native_body, {"/v1/": openai_body, "/ollama/": ollama_body, MCP_PATH: mcp_body})
    errors[TooManyRequestsException] = too_many_requests(settings, errors[Exception])
    if chat_page:
        from assistant.web.page import chat_page_fallback

        page_errors, page_lifespan = chat_page_fallback(core, not_found=errors[Exception], feedback=observed.feedback)
        errors.update(page_errors)
        lifespan.append(page_lifespan)
    app = Litestar(
        route_handlers=handlers,
        dependencies={
            **dependencies(core, ingestor=_ingestor(core)),
            **reader_dependency(core.read_checker),
            **observed.dependencies,
        },
        guards=reader_guard(core.read_checker),  # only handlers marked READS_CATALOG
        exception_handlers=errors,
        request_max_body_size=max_body_bytes,
        lifespan=lifespan,
        middleware=[frame_ancestors(settings.frame_ancestors), *observed.middleware, *rate_limit_middleware(settings)],
        openapi_config=OpenAPIConfig(title="Backchat Assistant", version=__version__, path="/schema"),
    )
    app.state.core = core
    app.state.readiness = readiness
    return app
