"""What the OpenAPI document says about responses: every error shape, the records, the streamed alternatives.

These types describe responses for the document only; the handlers build the bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, Schema
from litestar.openapi.spec import OpenAPIResponse as SpecResponse
from litestar.openapi.spec.enums import OpenAPIType

DESCRIPTIONS = {
    400: "The body is not JSON, or not a JSON object",
    401: "Missing or wrong Bearer key",
    403: "Disabled by configuration",
    404: "Something the request names does not exist (model, prompt, backend)",
    405: "Method not allowed",
    409: "Another ingest is running",
    413: "The question or the request is longer than the configured limit",
    422: "A field has the wrong type or value; the error names it",
    502: "The model backend answered with an error",
    503: "The model backend is not answering",
    504: "The model backend did not answer in time",
}


# --- error shapes ----------------------------------------------------------------------------------


class NativeErrorDetail(msgspec.Struct):
    code: str
    message: str
    field: str | None = None


class NativeError(msgspec.Struct):
    error: NativeErrorDetail


class OpenAIErrorDetail(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str


class OpenAIError(msgspec.Struct):
    error: OpenAIErrorDetail


class OllamaError(msgspec.Struct):
    error: str


# --- records ---------------------------------------------------------------------------------------


class SourceRecord(msgspec.Struct):
    entity: str
    title: str
    url: str
    score: float
    reason: str
    page: str | None = None
    section: str | None = None


class SourcesResponse(msgspec.Struct):
    sources: list[SourceRecord]


class AnswerRecord(msgspec.Struct):
    """The final record of an answer (more fields may be added)."""

    question: str
    answer: str
    complete: bool
    sources: list[SourceRecord]
    prompt: dict[str, Any]
    backend: str
    model: str
    error: dict[str, Any] | None = None
    withheld: int | None = None  # `backstage` permission mode: how many of the best sources the asker may not read


# --- builders --------------------------------------------------------------------------------------


def response(model: Any, description: str) -> ResponseSpec:
    return ResponseSpec(data_container=model, description=description, generate_examples=False)


def success(model: Any, description: str) -> dict[int, ResponseSpec]:
    return {200: response(model, description)}


def error_responses(shape: type, *statuses: int) -> dict[int, ResponseSpec]:
    """The error responses an endpoint gives, in its protocol's shape."""
    return {status: response(shape, DESCRIPTIONS[status]) for status in statuses}


def sse_events(description: str, named: bool = True) -> tuple[str, Schema]:
    """A server-sent event stream, described one event at a time (`event` and its JSON `data`)."""
    properties = {"data": Schema(type=OpenAPIType.STRING, description="JSON, or `[DONE]` last on /v1")}
    if named:
        properties["event"] = Schema(type=OpenAPIType.STRING, enum=["sources", "token", "error", "done"])
    event = Schema(type=OpenAPIType.OBJECT, properties=properties, required=["data"], description=description)
    return "text/event-stream", event


def ndjson_lines(description: str) -> tuple[str, Schema]:
    """A stream of JSON objects, one a line, described one line at a time."""
    line = Schema(
        type=OpenAPIType.OBJECT,
        properties={"done": Schema(type=OpenAPIType.BOOLEAN), "message": Schema(type=OpenAPIType.OBJECT)},
        required=["done"],
        description=description,
    )
    return "application/x-ndjson", line


def also_streams(stream: tuple[str, Schema]) -> type[Operation]:
    """An operation whose 200 is JSON or, when the request asks to stream, the `(media type, item)` stream."""
    media_type, item = stream

    @dataclass
    class StreamingOperation(Operation):
        def __post_init__(self) -> None:
            ok = (self.responses or {}).get("200")
            if isinstance(ok, SpecResponse):
                ok.content = {**(ok.content or {}), media_type: OpenAPIMediaType(schema=item)}

    return StreamingOperation
