"""One exception handler per protocol shape: native, OpenAI, Ollama and MCP.

Every failure a request can meet becomes an `AssistantError` first (Litestar's own HTTP exceptions, such as
an unreadable body or a body too large, included), which carries its status and code; each protocol only
decides how the error looks on its wire. A new error type needs no change here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from assistant.errors import (
    AssistantError,
    InvalidRequest,
    MalformedRequest,
    MethodNotAllowed,
    NotFound,
    RequestTooLarge,
    Unauthorized,
)

log = logging.getLogger(__name__)

_BY_STATUS: dict[int, type[AssistantError]] = {
    400: MalformedRequest,
    401: Unauthorized,
    404: NotFound,
    405: MethodNotAllowed,
    413: RequestTooLarge,
}


class _HTTPError(AssistantError):
    """A framework error with no type of our own: keeps the framework's status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
        self.code = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")


_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_AT_PATH = re.compile(r"at `\$\.([^`]+)`")


def _validation_error(exc: ValidationException) -> AssistantError:
    """A body that does not match the endpoint's schema: 422 naming the field; one that is not JSON: 400."""
    problems = [item for item in (exc.extra or []) if isinstance(item, dict)]
    if not problems:
        return MalformedRequest(f"the request body cannot be read: {exc.detail}")
    first = problems[0]
    detail = str(first.get("message", exc.detail))
    field = str(first.get("key") or "") or None
    if field in (None, "data"):  # the body as a whole: name the field the message is about, if it names one
        named = _MISSING_FIELD.search(detail) or _AT_PATH.search(detail)
        field = named.group(1) if named else None
    where = f"'{field}': " if field else ""
    message = f"{where}{detail}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return InvalidRequest(message, field=field)


def as_assistant_error(exc: Exception) -> AssistantError:
    """Any exception a request raised, as the error a user sees."""
    if isinstance(exc, AssistantError):
        return exc
    if isinstance(exc, ValidationException):
        return _validation_error(exc)
    if isinstance(exc, HTTPException):
        detail = str(exc.detail)
        error_type = _BY_STATUS.get(exc.status_code)
        if exc.status_code == 400:  # the body could not be decoded
            detail = f"the request body is not valid JSON ({detail})"
        elif exc.status_code == 413:
            detail = "the request body is larger than the service accepts (ASSISTANT_MAX_REQUEST_CHARS)"
        return error_type(detail) if error_type else _HTTPError(detail, exc.status_code)
    log.exception("unexpected error", exc_info=exc)
    return AssistantError("the assistant failed unexpectedly; the service log has the details")


# --- the shapes ------------------------------------------------------------------------------------


def native_body(error: AssistantError) -> dict[str, Any]:
    """`{"error": {"code", "message", "field"?}}`: the assistant's own API."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.field:
        body["field"] = error.field
    return {"error": body}


def openai_body(error: AssistantError) -> dict[str, Any]:
    """OpenAI's `{"error": {"message", "type", "param", "code"}}`."""
    kind = "invalid_request_error" if error.status < 500 else "server_error"
    if error.status == 401:
        kind = "authentication_error"
    return {"error": {"message": error.message, "type": kind, "param": error.field, "code": error.code}}


def ollama_body(error: AssistantError) -> dict[str, Any]:
    """Ollama's `{"error": "message"}`."""
    return {"error": error.message}


# JSON-RPC error codes the MCP transport uses for requests refused before they reach a session.
_JSONRPC_INVALID_REQUEST = -32600
_JSONRPC_INTERNAL_ERROR = -32603


def mcp_body(error: AssistantError) -> dict[str, Any]:
    """A JSON-RPC error, as the MCP streamable HTTP transport answers requests it refuses."""
    code = _JSONRPC_INVALID_REQUEST if error.status < 500 else _JSONRPC_INTERNAL_ERROR
    return {"jsonrpc": "2.0", "id": "server-error", "error": {"code": code, "message": error.message}}


Shape = Callable[[AssistantError], dict[str, Any]]
Handler = Callable[[Request[Any, Any, Any], Exception], Response[dict[str, Any]]]


def handler_for(shape: Shape) -> Handler:
    def handle(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
        error = as_assistant_error(exc)
        headers = {**(exc.headers or {}), **error.headers()} if isinstance(exc, HTTPException) else error.headers()
        return Response(shape(error), status_code=error.status, headers=headers)  # keeps e.g. `Allow` on a 405

    return handle


def exception_handlers(shape: Shape) -> dict[type[Exception], Handler]:
    """The `exception_handlers` of a layer (app, router, controller or handler) that speaks `shape`."""
    return {Exception: handler_for(shape)}


def app_exception_handlers(default: Shape, by_prefix: dict[str, Shape]) -> dict[type[Exception], Handler]:
    """The app's handlers: errors met before any router is chosen (no such path, wrong method) are
    shaped by the protocol whose path prefix the request names."""
    handlers = {prefix: handler_for(shape) for prefix, shape in by_prefix.items()}
    fallback = handler_for(default)

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
        path = request.scope["path"].removeprefix(str(request.scope.get("root_path") or ""))
        chosen = next((handler for prefix, handler in handlers.items() if path.startswith(prefix)), fallback)
        return chosen(request, exc)

    return {Exception: handle}
