"""Errors a user can act on. Each type carries its HTTP status and a stable code; front doors only shape them.

A new error is one subclass with `status` and `code`: every protocol's exception handler (native, OpenAI,
Ollama, MCP) turns it into that protocol's error shape without knowing about it.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: `code` is stable and machine-readable, the message says what to do."""

    code = "assistant_error"
    status = 500

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the request field at fault, when one is

    def headers(self) -> dict[str, str]:
        """Response headers the error needs (e.g. `WWW-Authenticate`, `Retry-After`)."""
        return {}


class ConfigError(AssistantError):
    code = "config_error"


class InvalidRequest(AssistantError):
    code = "invalid_request"
    status = 422


class MalformedRequest(InvalidRequest):
    """The body cannot be read at all: not JSON, or not the JSON object the endpoint takes."""

    code = "malformed_request"
    status = 400


class QuestionTooLong(InvalidRequest):
    code = "question_too_long"
    status = 413


class RequestTooLarge(InvalidRequest):
    code = "request_too_large"
    status = 413


class NotFound(InvalidRequest):
    """Something the request names does not exist (a route, a prompt, a backend, a model, an entity)."""

    code = "not_found"
    status = 404


class UnknownPrompt(NotFound):
    code = "unknown_prompt"


class UnknownBackend(NotFound):
    code = "unknown_backend"


class UnknownModel(NotFound):
    code = "model_not_found"


class UnknownEntity(NotFound):
    code = "unknown_entity"


class MethodNotAllowed(InvalidRequest):
    code = "method_not_allowed"
    status = 405


class Unauthorized(AssistantError):
    code = "invalid_api_key"
    status = 401

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class AdminDisabled(AssistantError):
    code = "admin_disabled"
    status = 403


class IngestConflict(AssistantError):
    code = "ingest_running"
    status = 409


class PromptError(AssistantError):
    """A prompt template that cannot be loaded or rendered."""

    code = "prompt_error"


class KnowledgeBaseError(AssistantError):
    code = "knowledge_base_error"
    status = 503


class LLMError(AssistantError):
    code = "llm_error"
    status = 502


class BackendUnreachable(LLMError):
    code = "backend_unreachable"
    status = 503


class BackendTimeout(LLMError):
    code = "backend_timeout"
    status = 504


class ModelNotFound(LLMError):
    code = "model_not_found"
    status = 404


class BackendFailed(LLMError):
    """The server answered, but with an error (4xx/5xx) or a broken stream."""

    code = "backend_failed"
