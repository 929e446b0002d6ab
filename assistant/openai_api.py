"""OpenAI-compatible endpoints: `/v1/models` and `/v1/chat/completions`, streaming or not.

Chunks follow OpenAI's exact shape and end with `data: [DONE]`: Open WebUI and other frontends pass the
bytes through unchanged, so the shape is the only safeguard. Sources are appended to the answer as a
markdown list (unless `append_sources` is off) and also sent in a `sources` field clients ignore.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Stream

from assistant.answerer import DoneEvent, ErrorEvent, TokenEvent
from assistant.compat import (
    ModelCatalog,
    chat_request,
    check_api_key,
    error_body_openai,
    http_status,
    replay,
    start_answer,
    whole_answer,
)
from assistant.core import Core
from assistant.errors import AssistantError, InvalidRequest
from assistant.links import sources_markdown
from assistant.llm.base import GenerationOptions

STARTED = int(time.time())


def openai_error(_: Request[Any, Any, Any], error: AssistantError) -> Response[dict[str, Any]]:
    return Response(error_body_openai(error), status_code=http_status(error))


def options_from(body: dict[str, Any]) -> GenerationOptions:
    stop = body.get("stop") or ()
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
    temperature = body.get("temperature")
    if temperature is not None and not isinstance(temperature, int | float):
        raise InvalidRequest("'temperature' must be a number")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise InvalidRequest("'max_tokens' must be a positive integer")
    return GenerationOptions(
        temperature=temperature, max_tokens=max_tokens, stop=(stop,) if isinstance(stop, str) else tuple(stop)
    )


class OpenAIController(Controller):
    path = "/v1"
    tags = ("openai-compatible",)
    exception_handlers = {AssistantError: openai_error}  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/models", summary="One model per prompt template, plus configured aliases")
    async def models(self, request: Request[Any, Any, Any], core: Core) -> dict[str, Any]:
        check_api_key(request.headers.get("authorization"), core.settings)
        catalog = ModelCatalog(core.prompts, core.settings)
        return {
            "object": "list",
            "data": [
                {"id": model, "object": "model", "created": STARTED, "owned_by": "backchat-assistant"}
                for model in catalog.ids()
            ],
        }

    @get("/models/{model_id:path}", summary="One model")
    async def model(self, request: Request[Any, Any, Any], core: Core, model_id: str) -> dict[str, Any]:
        check_api_key(request.headers.get("authorization"), core.settings)
        model = model_id.lstrip("/")
        ModelCatalog(core.prompts, core.settings).template_for(model)
        return {"id": model, "object": "model", "created": STARTED, "owned_by": "backchat-assistant"}

    @post("/chat/completions", status_code=200, summary="Chat completion grounded in the catalog")
    async def chat_completions(self, request: Request[Any, Any, Any], core: Core) -> Response[Any]:
        body, model, question = await chat_request(request, core, options_from)
        sources, buffered, rest = await start_answer(core.answerer, question)
        show_sources = core.settings.append_sources and question.retrieval
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        source_dicts = [source.to_dict() for source in sources]

        if not body.get("stream"):
            record, content, _ = await whole_answer(buffered, rest, sources, show_sources)
            return Response(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "system_fingerprint": None,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "sources": source_dicts,
                    "prompt": record.get("prompt"),
                }
            )

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            data = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(data)}\n\n"

        async def chunks() -> AsyncIterator[str]:
            yield chunk({"role": "assistant", "content": ""})
            async for event in replay(buffered, rest):
                if isinstance(event, TokenEvent):
                    yield chunk({"content": event.text})
                elif isinstance(event, ErrorEvent):  # cut mid-answer: keep what came, say so
                    yield chunk({"content": f"\n\n⚠️ {event.message}"})
                elif isinstance(event, DoneEvent):
                    if show_sources and sources:
                        yield chunk({"content": sources_markdown(sources)})
                    yield chunk({}, "stop", sources=source_dicts, prompt=event.record.get("prompt"))
            yield "data: [DONE]\n\n"

        return Stream(chunks(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
