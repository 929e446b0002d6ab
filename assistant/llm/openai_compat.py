"""Any OpenAI-compatible server (OpenAI, LocalAI, text-generation-webui, LM Studio, vLLM, llama.cpp server).

The stream is plain server-sent events, read with aiohttp directly. A client library's request building
(LangChain over the openai SDK) cost 9-12 ms of CPU per answer; httpx's connection pool costs 2-3 ms per
stream alone and 16-18 ms per stream with 64 in flight (it scans every pooled connection for each request);
aiohttp's costs under 1 ms at either.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from assistant.errors import BackendFailed, BackendTimeout, BackendUnreachable, LLMError, ModelNotFound
from assistant.llm.base import BackendHealth, GenerationOptions, LLMBackend
from assistant.llm.http_errors import get_json, probe, translate_httpx
from assistant.prompts import RenderedPrompt
from assistant.settings import BackendConfig

# A server-sent event line longer than this is not a streamed answer (whole answers arrive in one line at most).
MAX_EVENT_BYTES = 4 * 1024 * 1024


class ServerAnswered(Exception):
    """The server answered with an HTTP error status; `message` is its own explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class OpenAICompatibleBackend(LLMBackend):
    def __init__(self, config: BackendConfig) -> None:
        super().__init__(config)
        # One session (connection pool) per event loop: a pool cannot outlive the loop it was made on.
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
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

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = self._sessions[loop] = aiohttp.ClientSession(
                base_url=str(self.config.base_url).rstrip("/") + "/",
                headers={"Authorization": f"Bearer {self._api_key}"},
                # The answer's own time limits (first token, whole answer) are kept by `LLMBackend.stream`.
                timeout=aiohttp.ClientTimeout(total=None, connect=self.config.connect_timeout_seconds),
                connector=aiohttp.TCPConnector(limit=0),
                raise_for_status=False,
            )
        return session

    async def aclose(self) -> None:
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()

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
        try:
            response = await self._session().post(path, json=self.request_body(prompt, model, options))
        except aiohttp.ConnectionTimeoutError:  # not the answer's timeout: the server did not take the connection
            raise BackendTimeout(f"{self.describe()} did not accept a connection in time") from None
        except aiohttp.ClientConnectorError:
            raise BackendUnreachable(f"{self.describe()} is not answering; is it running? {_FIX}") from None
        async with response:
            if response.status >= 400:
                raise ServerAnswered(response.status, _message(await response.read()))
            while line := await response.content.readline(max_line_length=MAX_EVENT_BYTES):
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":  # read on to the end: a connection read to its end is reused
                    continue
                chunk = json.loads(data)
                if isinstance(chunk, dict) and chunk.get("error"):
                    raise ServerAnswered(response.status, str(chunk["error"].get("message", chunk["error"])))
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
        if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
            return BackendFailed(f"{where} cut the answer off ({error})")
        if isinstance(error, aiohttp.ClientError):
            return BackendFailed(f"{where} failed: {type(error).__name__}: {error}")
        return translate_httpx(error, where, _FIX)  # the model listing and health probes use httpx


_FIX = "Check ASSISTANT_LLM_BASE_URL."


def _message(body: bytes) -> str:
    """The server's own explanation of an error: OpenAI's `{"error": {"message"}}`, or the body's start."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:300].decode(errors="replace")
    inner = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
    if isinstance(inner, dict) and inner.get("message"):
        return str(inner["message"])
    return str(inner)[:300]
