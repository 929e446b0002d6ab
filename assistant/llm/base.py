"""The `LLMBackend` interface and the stream guard every backend shares (timeouts, error mapping)."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import BackendFailed, BackendTimeout, BackendUnreachable, LLMError, ModelNotFound
from assistant.prompts import RenderedPrompt
from assistant.settings import BackendConfig
from assistant.tokens import EstimatedTokens, TokenCounter

# Base models continue whatever text they are given; these stop them at the next turn.
COMPLETION_STOPS = ("\nQuestion:", "\nAnswer:", "\nUser:", "\n<question>", "\n\n[", "\n\n\n")
# The window assumed when neither the configuration nor the server says (most servers' own default).
DEFAULT_CONTEXT_SIZE = 4096


@dataclass(frozen=True)
class GenerationOptions:
    temperature: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()


@dataclass
class BackendHealth:
    name: str
    type: str
    ok: bool
    detail: str = ""
    version: str | None = None
    models: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "ok": self.ok,
            "detail": self.detail,
            "version": self.version,
            "models": self.models,
        }


class LLMBackend(ABC):
    """A configured LLM server or runtime. `stream` is the only way text comes out."""

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self.name = config.name
        self.type = config.type

    @property
    def default_model(self) -> str:
        return self.config.model or ""

    @property
    def style(self) -> str:
        return self.config.style or "chat"

    def describe(self) -> str:
        """Where this backend is, for error messages."""
        return f"{self.type} backend '{self.name}'" + (f" at {self.config.base_url}" if self.config.base_url else "")

    async def context_window(self, model: str) -> int:
        """Tokens the model attends to: `context_size` when configured, else what the server says."""
        return self.config.context_size or DEFAULT_CONTEXT_SIZE

    def token_counter(self, model: str) -> TokenCounter:
        """The model's own tokenizer where the assistant has it, a conservative estimate otherwise."""
        return EstimatedTokens()

    def warm_up(self) -> None:  # noqa: B027 - optional: only in-process models have anything to load
        """Load what the first answer would otherwise wait for (blocking: call it off the event loop)."""

    async def aclose(self) -> None:  # noqa: B027 - optional: only backends that pool connections hold any
        """Close the connections this backend pooled on the running event loop."""

    @abstractmethod
    async def models(self) -> list[str]:
        """Models this backend can serve."""

    async def _with_available_models(self, error: ModelNotFound, model: str) -> ModelNotFound:
        """Name the models that do exist, when the server can tell."""
        try:
            async with asyncio.timeout(self.config.connect_timeout_seconds):
                available = await self.models()
        except Exception:  # the listing is a courtesy; the original error stands
            return error
        listing = ", ".join(available) if available else "none"
        return ModelNotFound(f"{self.describe()} has no model '{model}'; available: {listing}")

    @abstractmethod
    async def health(self) -> BackendHealth: ...

    @abstractmethod
    def _raw_stream(self, prompt: RenderedPrompt, model: str, options: GenerationOptions) -> AsyncIterator[str]:
        """Text pieces as the server sends them; errors as the client library raises them.

        Chat-style backends send `prompt.messages`, completion-style ones `prompt.completion`.
        """

    @abstractmethod
    def translate_error(self, error: BaseException) -> LLMError | None:
        """The user-facing error for a library exception, or None to let it through."""

    def resolve_options(self, options: GenerationOptions) -> GenerationOptions:
        stop = tuple(options.stop) + (COMPLETION_STOPS if self.style == "completion" else ())
        return GenerationOptions(
            temperature=self.config.temperature if options.temperature is None else options.temperature,
            max_tokens=min(options.max_tokens or self.config.max_tokens, self.config.max_tokens),
            stop=stop,
        )

    async def stream(
        self, prompt: RenderedPrompt, model: str | None = None, options: GenerationOptions | None = None
    ) -> AsyncIterator[str]:
        """Stream the answer; raise `LLMError` subclasses only, with a message a user can act on."""
        model = model or self.default_model
        resolved = self.resolve_options(options or GenerationOptions())
        started = time.monotonic()
        iterator = self._raw_stream(prompt, model, resolved).__aiter__()
        received_any = False
        try:
            while True:
                limit = self.config.timeout_seconds if received_any else self.config.first_token_timeout_seconds
                remaining = min(limit, self.config.timeout_seconds) - (time.monotonic() - started)
                if remaining <= 0:
                    raise TimeoutError
                try:
                    async with asyncio.timeout(remaining):
                        piece = await iterator.__anext__()
                except StopAsyncIteration:
                    return
                if piece:
                    received_any = True
                    yield piece
        except TimeoutError:
            if received_any:
                raise BackendTimeout(
                    f"{self.describe()} did not finish within {self.config.timeout_seconds:g} s; "
                    "the answer so far is kept (raise timeout_seconds or lower max_tokens)"
                ) from None
            raise BackendTimeout(
                f"{self.describe()} sent nothing within {self.config.first_token_timeout_seconds:g} s "
                "(timed out before the first token: the model may still be loading; raise "
                "first_token_timeout_seconds or use a smaller model)"
            ) from None
        except LLMError:
            raise
        except Exception as error:
            translated = self.translate_error(error)
            if translated is None:
                raise
            if isinstance(translated, ModelNotFound):
                translated = await self._with_available_models(translated, model)
            if received_any and isinstance(translated, BackendUnreachable):
                # It answered, then went away: the answer was cut, the server is not simply down.
                translated = BackendFailed(f"{self.describe()} cut the answer off mid-stream ({translated.message})")
            raise translated from error
        finally:
            closer = getattr(iterator, "aclose", None)
            if closer is not None:
                await closer()
