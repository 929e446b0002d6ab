"""The HTTP API: streaming chat (SSE), retrieval, health and readiness. Thin adapters over the Answerer."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from assistant.answerer import (
    Answerer,
    AnswerEvent,
    DoneEvent,
    ErrorEvent,
    Question,
    SourcesEvent,
    TokenEvent,
)
from assistant.compat import Unauthorized, http_status
from assistant.core import Core
from assistant.errors import AssistantError
from assistant.knowledge import LAST_INGEST_FILE


@dataclass
class HistoryMessage:
    role: Literal["user", "assistant"]
    content: str


@dataclass
class ChatRequest:
    question: str
    history: list[HistoryMessage] = field(default_factory=list)
    prompt: str | None = None
    backend: str | None = None
    model: str | None = None
    entity: str | None = None
    stream: bool = True


@dataclass
class RetrieveRequest:
    question: str
    k: int | None = None
    entity: str | None = None


def event_payload(event: AnswerEvent) -> dict[str, Any]:
    """The JSON each SSE event carries; the event name is the event's type."""
    if isinstance(event, SourcesEvent):
        return {"sources": [source.to_dict() for source in event.sources]}
    if isinstance(event, TokenEvent):
        return {"text": event.text}
    if isinstance(event, ErrorEvent):
        return {"code": event.code, "message": event.message}
    return event.record


def error_response(request: Request[Any, Any, Any], error: AssistantError) -> Response[dict[str, Any]]:
    """One error shape for the assistant's own API: {"error": {"code", "message"}}."""
    return Response({"error": {"code": error.code, "message": error.message}}, status_code=http_status(error))


class ChatController(Controller):
    path = "/api"
    tags = ("chat",)

    @post("/chat", status_code=HTTP_200_OK, summary="Ask a question; streams server-sent events by default")
    async def chat(self, data: ChatRequest, answerer: Answerer) -> Response[Any]:
        """Events: `sources` (before the first token), `token`, `error` (after which the sources stand), `done`."""
        question = Question(
            data.question,
            history=[{"role": m.role, "content": m.content} for m in data.history],
            prompt=data.prompt,
            backend=data.backend,
            model=data.model,
            entity=data.entity,
        )
        answerer.validate(question)  # a bad request gets its 4xx before the stream starts
        if not data.stream:
            record: dict[str, Any] = {}
            async for event in answerer.answer(question):
                if isinstance(event, DoneEvent):
                    record = event.record
            return Response(record)

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            async for event in answerer.answer(question):
                yield ServerSentEventMessage(event=event.type, data=json.dumps(event_payload(event)))

        return ServerSentEvent(events())

    @post("/retrieve", status_code=HTTP_200_OK, summary="The sources the assistant would use, without an answer")
    async def retrieve(self, data: RetrieveRequest, answerer: Answerer) -> dict[str, Any]:
        answerer.validate(Question(data.question))
        sources = await asyncio.to_thread(answerer.retrieve, data.question, data.k, data.entity)
        return {"sources": [source.to_dict() for source in sources]}


class AdminDisabled(AssistantError):
    code = "admin_disabled"


class IngestConflict(AssistantError):
    code = "ingest_running"


# The app factory provides this: it runs one ingest of the configured sources and returns its report.
Ingestor = Callable[[], dict[str, Any]]


@get("/api/status", tags=["admin"], summary="The knowledge base and the report of the latest ingest")
async def status(core: Core) -> dict[str, Any]:
    report_file = core.settings.data_dir / LAST_INGEST_FILE
    last = json.loads(report_file.read_text()) if report_file.is_file() else None
    return {"knowledge_base": {"chunks": await asyncio.to_thread(core.kb.count)}, "last_ingest": last}


@post("/api/admin/ingest", tags=["admin"], status_code=HTTP_200_OK, summary="Run an ingest of the configured sources")
async def admin_ingest(request: Request[Any, Any, Any], core: Core, ingestor: Ingestor) -> Response[dict[str, Any]]:
    """Needs `Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>`; refused when no admin token is configured."""
    token = core.settings.admin_token
    if token is None:
        raise AdminDisabled("admin ingest is disabled: set ASSISTANT_ADMIN_TOKEN to enable it")
    given = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given, token.get_secret_value()):
        raise Unauthorized("missing or wrong admin token: send Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>")
    report = await asyncio.to_thread(ingestor)
    return Response(report, status_code=HTTP_200_OK if report.get("ok") else 502)


@get("/healthz", tags=["health"], summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", tags=["health"], summary="Everything is loaded, and the default backend answers")
async def readyz(request: Request[Any, Any, Any], core: Core) -> Response[dict[str, Any]]:
    report: dict[str, Any] = {}
    ready = True
    readiness = getattr(request.app.state, "readiness", None)
    if readiness is not None:  # the parts loaded at start: 503 naming what is still loading
        report.update(readiness.report())
        ready = readiness.ready
    try:
        report["knowledge_base"] = {"ok": True, "chunks": await asyncio.to_thread(core.kb.count)}
    except Exception as error:  # any failure here means not ready, with the reason shown
        ready = False
        report["knowledge_base"] = {"ok": False, "detail": str(error)}
    backends = await asyncio.gather(*(backend.health() for backend in core.backends.all()))
    report["backends"] = [health.to_dict() for health in backends]
    default = next(h for h in backends if h.name == core.backends.default)
    ready = ready and default.ok
    report["ready"] = ready
    return Response(report, status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE)


def api_dependencies(core: Core, ingestor: Ingestor) -> dict[str, Provide]:
    return {
        "core": Provide(lambda: core, sync_to_thread=False),
        "answerer": Provide(lambda: core.answerer, sync_to_thread=False),
        "ingestor": Provide(lambda: ingestor, sync_to_thread=False),
    }


route_handlers = [ChatController, healthz, readyz, status, admin_ingest]
