"""Ollama's native API (`/api/chat` NDJSON streaming), through LangChain's ChatOllama."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from assistant.errors import BackendFailed, LLMError, ModelNotFound
from assistant.llm.base import DEFAULT_CONTEXT_SIZE, BackendHealth, GenerationOptions, LLMBackend
from assistant.llm.http_errors import get_json, translate_httpx
from assistant.prompts import RenderedPrompt
from assistant.settings import BackendConfig

log = logging.getLogger(__name__)
_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)\s*$", re.MULTILINE)


def window_from_show(shown: dict[str, Any]) -> int | None:
    """The context window `/api/show` describes: the Modelfile's `num_ctx`, else the model's own length."""
    found = _NUM_CTX.search(str(shown.get("parameters") or ""))
    if found:
        return int(found.group(1))
    info = shown.get("model_info") or {}
    lengths = [value for key, value in info.items() if key.endswith(".context_length") and isinstance(value, int)]
    return lengths[0] if lengths else None


class OllamaBackend(LLMBackend):
    def __init__(self, config: BackendConfig) -> None:
        super().__init__(config)
        self._windows: dict[str, int] = {}

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

    async def context_window(self, model: str) -> int:
        """`context_size`, else what `/api/show` says; the same number is sent as `num_ctx`, so the budget and
        the server agree (Ollama's own default would otherwise cut long prompts from the front)."""
        if self.config.context_size:
            return self.config.context_size
        if model not in self._windows:
            try:
                async with httpx.AsyncClient(
                    base_url=self._base_url, timeout=self.config.connect_timeout_seconds, headers=self._headers()
                ) as client:
                    response = await client.post("/api/show", json={"model": model})
                    response.raise_for_status()
                    shown = response.json()
            except (httpx.HTTPError, ValueError) as error:  # not cached: asked again with the next question
                log.debug("ollama /api/show for %s failed: %s", model, error)
                return DEFAULT_CONTEXT_SIZE
            self._windows[model] = (
                window_from_show(shown) if isinstance(shown, dict) else None
            ) or DEFAULT_CONTEXT_SIZE
            log.info("%s: model %s has a context window of %d tokens", self.describe(), model, self._windows[model])
        return self._windows[model]

    @functools.lru_cache(maxsize=32)  # noqa: B019 - one cache per backend, which lives as long as the app
    def _client(
        self, model: str, temperature: float | None, max_tokens: int | None, stop: tuple[str, ...], num_ctx: int
    ) -> Any:
        """A ChatOllama per (model, options): built once, its connections reused."""
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=model,
            base_url=self._base_url,
            temperature=temperature,
            num_predict=max_tokens,
            num_ctx=num_ctx,
            keep_alive=self.config.keep_alive,
            stop=list(stop) or None,
            client_kwargs={
                "timeout": httpx.Timeout(self.config.timeout_seconds, connect=self.config.connect_timeout_seconds),
                "headers": self._headers(),
            },
        )

    async def _raw_stream(self, prompt: RenderedPrompt, model: str, options: GenerationOptions) -> AsyncIterator[str]:
        window = await self.context_window(model)
        chat = self._client(model, options.temperature, options.max_tokens, tuple(options.stop), window)
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
