"""Any OpenAI-compatible server (OpenAI, LocalAI, text-generation-webui, LM Studio, vLLM, llama.cpp server)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

from assistant.errors import BackendFailed, BackendTimeout, BackendUnreachable, LLMError, ModelNotFound
from assistant.llm.base import BackendHealth, GenerationOptions, LLMBackend
from assistant.llm.http_errors import get_json, probe, translate_httpx
from assistant.prompts import RenderedPrompt


class OpenAICompatibleBackend(LLMBackend):
    @property
    def _api_key(self) -> str:
        # Local servers ignore the key, but the client library insists on one.
        return self.config.api_key.get_secret_value() if self.config.api_key else "not-needed"

    async def models(self) -> list[str]:
        if self.config.models is not None:
            return list(self.config.models)
        data = await get_json(
            str(self.config.base_url),
            "/models",
            {"Authorization": f"Bearer {self._api_key}"},
            self.config.connect_timeout_seconds,
        )
        return [str(m.get("id")) for m in (data or {}).get("data", [])]  # type: ignore[union-attr]

    async def health(self) -> BackendHealth:
        health = BackendHealth(self.name, self.type, ok=False)
        try:
            if self.config.models is None:
                health.models = await self.models()
            else:  # the listing is missing or wrong on this server: any HTTP answer shows it is up
                status = await probe(str(self.config.base_url), "/models", self.config.connect_timeout_seconds)
                health.models = list(self.config.models)
                health.detail = f"models from configuration (the server's /models answered {status})"
            health.ok = True
        except Exception as error:
            translated = self.translate_error(error)
            health.detail = translated.message if translated else str(error)
        return health

    async def _raw_stream(self, prompt: RenderedPrompt, model: str, options: GenerationOptions) -> AsyncIterator[str]:
        llm = self._client(model, options.temperature, options.max_tokens)
        stop = list(options.stop) or None
        if self.style == "completion":
            async for text in llm.astream(prompt.completion, stop=stop):
                yield text
            return
        lc_messages = [(m["role"], m["content"]) for m in prompt.messages]
        async for chunk in llm.astream(lc_messages, stop=stop):
            if isinstance(chunk.content, str):
                yield chunk.content

    @functools.lru_cache(maxsize=32)  # noqa: B019 - one cache per backend, which lives as long as the app
    def _client(self, model: str, temperature: float | None, max_tokens: int | None) -> Any:
        """A LangChain client per (model, temperature, max_tokens): built once, its connections reused."""
        common = {
            "model": model,
            "base_url": self.config.base_url,
            "api_key": self._api_key,
            "temperature": temperature,
            "timeout": self.config.timeout_seconds,
            "max_retries": 0,
        }
        if self.style == "completion":
            from langchain_openai import OpenAI

            return OpenAI(**common, max_tokens=max_tokens or 256, streaming=True)
        from langchain_openai import ChatOpenAI

        # ChatOpenAI sends max_completion_tokens, which llama.cpp's server and others ignore: send the field
        # this server reads.
        return ChatOpenAI(**common, streaming=True, extra_body={self.config.max_tokens_field: max_tokens})

    def translate_error(self, error: BaseException) -> LLMError | None:
        import openai

        where = self.describe()
        if isinstance(error, openai.APITimeoutError):
            return BackendTimeout(f"{where} did not answer in time")
        if isinstance(error, openai.APIConnectionError):
            return BackendUnreachable(f"{where} is not answering; is it running? Check ASSISTANT_LLM_BASE_URL.")
        if isinstance(error, openai.NotFoundError):
            return ModelNotFound(f"{where}: model not found ({_message(error)}); check ASSISTANT_LLM_MODEL")
        if isinstance(error, openai.APIStatusError):
            return BackendFailed(f"{where} answered {error.status_code}: {_message(error)}")
        return translate_httpx(error, where, "Check ASSISTANT_LLM_BASE_URL.")


def _message(error: object) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(error, "message", error))[:300]
