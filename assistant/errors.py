"""Errors a user can act on. Each carries a stable code that front doors map onto their protocol."""


class AssistantError(Exception):
    """Base class: `code` is stable and machine-readable, the message says what to do."""

    code = "assistant_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(AssistantError):
    code = "config_error"


class InvalidRequest(AssistantError):
    code = "invalid_request"


class QuestionTooLong(InvalidRequest):
    code = "question_too_long"


class UnknownPrompt(InvalidRequest):
    code = "unknown_prompt"


class UnknownBackend(InvalidRequest):
    code = "unknown_backend"


class NotFound(AssistantError):
    """The request names something that does not exist (an answer id, say)."""

    code = "not_found"


class PromptError(AssistantError):
    """A prompt template that cannot be loaded or rendered."""

    code = "prompt_error"


class KnowledgeBaseError(AssistantError):
    code = "knowledge_base_error"


class LLMError(AssistantError):
    code = "llm_error"


class BackendUnreachable(LLMError):
    code = "backend_unreachable"


class BackendTimeout(LLMError):
    code = "backend_timeout"


class ModelNotFound(LLMError):
    code = "model_not_found"


class BackendFailed(LLMError):
    """The server answered, but with an error (4xx/5xx) or a broken stream."""

    code = "backend_failed"
