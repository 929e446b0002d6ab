"""The assistant's own HTTP API: streaming chat (SSE), retrieval, status, admin ingest, health and readiness.

Thin adapters over the Answerer; errors are shaped by the app's native exception handler.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
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
from assistant.ingest_report import LAST_INGEST_FILE
from assistant.knowledge import KnowledgeBase
from assistant.llm.registry import BackendRegistry
from assistant.permissions import Reader
from assistant.web.openapi import (
    AnswerRecord,
    NativeError,
    SourcesResponse,
    also_streams,
    error_responses,
    response,
    sse_events,
    success,
)
from assistant.web.readers import READS_CATALOG

# Backstage's entity reference: `kind:[namespace/]name`, as the catalog writes it.
ENTITY_REF_PATTERN = r"^[A-Za-z][A-Za-z0-9]*:(?:[A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$"
EntityScope = Annotated[
    str,
    msgspec.Meta(pattern=ENTITY_REF_PATTERN, description="Limit to this entity and what it relates to (kind:ns/name)"),
]
QuestionText = Annotated[str, msgspec.Meta(pattern=r"\S", description="The question (not blank)")]
TopK = Annotated[int, msgspec.Meta(ge=1, le=50, description="How many sources to retrieve")]


class HistoryMessage(msgspec.Struct):
    role: Literal["user", "assistant"]
    content: str


class ChatRequest(msgspec.Struct, kw_only=True):
    question: QuestionText
    history: list[HistoryMessage] = msgspec.field(default_factory=list)
    prompt: str | None = None
    backend: str | None = None
    model: str | None = None
    entity: EntityScope | None = None
    stream: bool = True


class RetrieveRequest(msgspec.Struct, kw_only=True):
    question: QuestionText
    # Left out, not null: Litestar converts bodies leniently, and `int | None` took the string "null" as null
    k: TopK | msgspec.UnsetType = msgspec.UNSET
    entity: EntityScope | None = None


def event_payload(event: AnswerEvent) -> dict[str, Any]:
    """The JSON each SSE event carries; the event name is the event's type."""
    if isinstance(event, SourcesEvent):
        return {"sources": [source.to_dict() for source in event.sources]}
    if isinstance(event, TokenEvent):
        return {"text": event.text}
    if isinstance(event, ErrorEvent):
        return {"code": event.code, "message": event.message}
    return event.record


class ChatController(Controller):
    path = "/api"
    tags = ("chat",)

    @post(
        "/chat",
        status_code=HTTP_200_OK,
        summary="Ask a question; streams server-sent events by default",
        responses={
            **success(AnswerRecord, "The final record (with `stream: false`), or the event stream"),
            **error_responses(NativeError, 400, 401, 404, 413, 422, 503),
        },
        operation_class=also_streams(sse_events("Events `sources`, `token`..., `error`?, then `done`")),
        opt=READS_CATALOG,
    )
    async def chat(self, data: ChatRequest, answerer: Answerer, reader: Reader | None) -> Response[Any]:
        """Events: `sources` (before the first token), `token`, `error` (after which the sources stand), `done`."""
        question = Question(
            data.question,
            history=[{"role": m.role, "content": m.content} for m in data.history],
            prompt=data.prompt,
            backend=data.backend,
            model=data.model,
            entity=data.entity,
            reader=reader,
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

    @post(
        "/retrieve",
        status_code=HTTP_200_OK,
        summary="The sources the assistant would use, without an answer",
        responses={
            **success(SourcesResponse, "The sources, best first"),
            **error_responses(NativeError, 400, 401, 413, 422, 503),
        },
        opt=READS_CATALOG,
    )
    async def retrieve(self, data: RetrieveRequest, answerer: Answerer, reader: Reader | None) -> dict[str, Any]:
        answerer.validate(Question(data.question))
        k = None if data.k is msgspec.UNSET else data.k
        sources = await asyncio.to_thread(answerer.retrieve, data.question, k, data.entity, reader)
        return {"sources": [source.to_dict() for source in sources]}


# The app factory provides this: it runs one ingest of the configured sources and returns its report.
Ingestor = Callable[[], dict[str, Any]]


@get("/api/status", tags=["admin"], summary="The knowledge base and the report of the latest ingest")
async def status(kb: KnowledgeBase, data_dir: Path) -> dict[str, Any]:
    report_file = data_dir / LAST_INGEST_FILE
    last = json.loads(report_file.read_text()) if report_file.is_file() else None
    return {"knowledge_base": {"chunks": await asyncio.to_thread(kb.count)}, "last_ingest": last}


@post(
    "/ingest",
    tags=["admin"],
    status_code=HTTP_200_OK,
    summary="Run an ingest of the configured sources",
    responses={
        **error_responses(NativeError, 401, 403, 409, 422),
        502: response(dict[str, Any], "The ingest ran and a source failed; the report says which"),
    },
)
async def admin_ingest(ingestor: Ingestor) -> Response[dict[str, Any]]:
    """Needs `Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>`; refused (403) while no admin token is configured."""
    report = await asyncio.to_thread(ingestor)
    synced = report.get("status") in ("ok", "partial")  # partial: some parts failed and kept what they had
    return Response(report, status_code=HTTP_200_OK if synced else 502)


@get("/healthz", tags=["health"], summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    tags=["health"],
    summary="Everything is loaded, and the default backend answers",
    responses={503: response(dict[str, Any], "Not ready; the report says what is still loading or failing")},
)
async def readyz(
    request: Request[Any, Any, Any], kb: KnowledgeBase, backends: BackendRegistry
) -> Response[dict[str, Any]]:
    report: dict[str, Any] = {}
    ready = True
    readiness = getattr(request.app.state, "readiness", None)
    if readiness is not None:  # the parts loaded at start: 503 naming what is still loading
        report.update(readiness.report())
        ready = readiness.ready
    try:
        report["knowledge_base"] = {"ok": True, "chunks": await asyncio.to_thread(kb.count)}
    except Exception as error:  # any failure here means not ready, with the reason shown
        ready = False
        report["knowledge_base"] = {"ok": False, "detail": str(error)}
    healths = await asyncio.gather(*(backend.health() for backend in backends.all()))
    report["backends"] = [health.to_dict() for health in healths]
    default = next(h for h in healths if h.name == backends.default)
    ready = ready and default.ok
    report["ready"] = ready
    return Response(report, status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE)


route_handlers = [ChatController, healthz, readyz, status]
# Mounted under `/api/admin` behind the admin guard by the app factory.
admin_handlers = [admin_ingest]
