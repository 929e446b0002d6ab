"""Ollama's native API (`/api/chat` NDJSON streaming), through LangChain's ChatOllama."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import httpx

from assistant.errors import BackendFailed, LLMError, ModelNotFound
from assistant.llm.base import BackendHealth, GenerationOptions, LLMBackend
from assistant.llm.http_errors import get_json, translate_httpx
from assistant.prompts import RenderedPrompt


class OllamaBackend(LLMBackend):
    @property
    def _base_url(self) -> str:
        return str(self.config.base_url)

    def _headers(self) -> dict[str, str]:
        key = self.config.api_key
        return {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}

    async def models(self) -> list[str]:
        data = await get_json(self._base_url, "/api/tags", self._headers(), self.config.connect_timeout_seconds)
        return [str(m.get("model") or m.get("name")) for m in (data or {}).get("models", [])]  # type: ignore[union-attr]

    async def health(self) -> BackendHealth:
        health = BackendHealth(self.name, self.type, ok=False)
        try:
            version = await get_json(
                self._base_url, "/api/version", self._headers(), self.config.connect_timeout_seconds
            )
            health.version = str((version or {}).get("version", ""))  # type: ignore[union-attr]
            health.models = await self.models()
            health.ok = True
        except Exception as error:
            translated = self.translate_error(error)
            health.detail = translated.message if translated else str(error)
        return health

    @functools.lru_cache(maxsize=32)  # noqa: B019 - one cache per backend, which lives as long as the app
    def _client(self, model: str, temperature: float | None, max_tokens: int | None, stop: tuple[str, ...]) -> Any:
        """A ChatOllama per (model, options): built once, its connections reused."""
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=model,
            base_url=self._base_url,
            temperature=temperature,
            num_predict=max_tokens,
            num_ctx=self.config.context_size,
            keep_alive=self.config.keep_alive,
            stop=list(stop) or None,
            client_kwargs={
                "timeout": httpx.Timeout(self.config.timeout_seconds, connect=self.config.connect_timeout_seconds),
                "headers": self._headers(),
            },
        )

    async def _raw_stream(self, prompt: RenderedPrompt, model: str, options: GenerationOptions) -> AsyncIterator[str]:
        chat = self._client(model, options.temperature, options.max_tokens, tuple(options.stop))
        if self.style == "completion":
            # Ollama applies the model's own template to chat turns; a base model gets one raw user turn.
            turns = [("user", prompt.completion)]
        else:
            turns = [(m["role"], m["content"]) for m in prompt.messages]
        async for chunk in chat.astream(turns):
            if isinstance(chunk.content, str):
                yield chunk.content

    def translate_error(self, error: BaseException) -> LLMError | None:
        from ollama import ResponseError

        if isinstance(error, ResponseError):
            if error.status_code == 404:
                return ModelNotFound(
                    f"{self.describe()}: {error.error}; pull it (ollama pull MODEL) or pick another model"
                )
            return BackendFailed(f"{self.describe()} answered {error.status_code}: {error.error}")
        return translate_httpx(error, self.describe(), "Check ASSISTANT_LLM_BASE_URL.")
