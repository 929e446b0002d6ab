"""Any OpenAI-compatible server (OpenAI, LocalAI, text-generation-webui, LM Studio, vLLM, llama.cpp server).

The stream is read with httpx directly: it is plain server-sent events, and a client library's request
building (LangChain over the openai SDK) cost 9-12 ms of CPU per answer, the largest per-answer cost of the
service under load, against about one here.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from typing import Any

import httpx

from assistant.errors import BackendFailed, LLMError, ModelNotFound
from assistant.llm.base import BackendHealth, GenerationOptions, LLMBackend
from assistant.llm.http_errors import get_json, probe, translate_httpx
from assistant.prompts import RenderedPrompt
from assistant.settings import BackendConfig


class ServerAnswered(Exception):
    """The server answered with an HTTP error status; `message` is its own explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class OpenAICompatibleBackend(LLMBackend):
    def __init__(self, config: BackendConfig) -> None:
        super().__init__(config)
        # One connection pool per event loop (a pool cannot outlive the loop it was made on).
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def _api_key(self) -> str:
        # Local servers ignore the key; some proxies in front of them insist on one.
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

    def _pool(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop not in self._pools:
            self._pools[loop] = httpx.AsyncClient(
                base_url=str(self.config.base_url).rstrip("/") + "/",
                headers={"Authorization": f"Bearer {self._api_key}"},
                timeout=httpx.Timeout(self.config.timeout_seconds, connect=self.config.connect_timeout_seconds),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
            )
        return self._pools[loop]

    def request_body(self, prompt: RenderedPrompt, model: str, options: GenerationOptions) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "stream": True}
        if self.style == "completion":
            body["prompt"] = prompt.completion
            body["max_tokens"] = options.max_tokens or 256
        else:
            body["messages"] = [{"role": m["role"], "content": m["content"]} for m in prompt.messages]
            if options.max_tokens:
                body[self.config.max_tokens_field] = options.max_tokens
        if options.temperature is not None:
            body["temperature"] = options.temperature
        if options.stop:
            body["stop"] = list(options.stop)
        return body

    async def _raw_stream(self, prompt: RenderedPrompt, model: str, options: GenerationOptions) -> AsyncIterator[str]:
        completion = self.style == "completion"
        path = "completions" if completion else "chat/completions"
        async with self._pool().stream("POST", path, json=self.request_body(prompt, model, options)) as response:
            if response.status_code >= 400:
                await response.aread()
                raise ServerAnswered(response.status_code, _message(response))
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":  # read on to the end: a connection read to its end is reused
                    continue
                chunk = json.loads(data)
                if isinstance(chunk, dict) and chunk.get("error"):
                    raise ServerAnswered(response.status_code, str(chunk["error"].get("message", chunk["error"])))
                choices = (chunk.get("choices") or []) if isinstance(chunk, dict) else []
                if not choices:
                    continue
                text = choices[0].get("text") if completion else (choices[0].get("delta") or {}).get("content")
                if text:
                    yield str(text)

    def translate_error(self, error: BaseException) -> LLMError | None:
        where = self.describe()
        if isinstance(error, ServerAnswered):
            if error.status == 404:
                return ModelNotFound(f"{where}: model not found ({error.message}); check ASSISTANT_LLM_MODEL")
            return BackendFailed(f"{where} answered {error.status}: {error.message}")
        return translate_httpx(error, where, "Check ASSISTANT_LLM_BASE_URL.")


def _message(response: httpx.Response) -> str:
    """The server's own explanation of an error: OpenAI's `{"error": {"message"}}`, or the body's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    inner = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(inner, dict) and inner.get("message"):
        return str(inner["message"])
    return str(inner)[:300]
