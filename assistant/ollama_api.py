"""Ollama-compatible endpoints under `/ollama`: `/api/version`, `/api/tags`, `/api/ps`, `/api/show`, `/api/chat`.

They live under a prefix because the assistant's own `POST /api/chat` already holds Ollama's path: point a
client's "Ollama URL" at `http://HOST:PORT/ollama`. `/api/chat` streams NDJSON by default (Ollama's default),
each line with `message.content`, the last with `done: true` and the counters clients turn into usage.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Stream

from assistant.answerer import DoneEvent, ErrorEvent, TokenEvent
from assistant.compat import (
    ModelCatalog,
    chat_request,
    check_api_key,
    http_status,
    replay,
    start_answer,
    whole_answer,
)
from assistant.core import Core
from assistant.errors import AssistantError, InvalidRequest
from assistant.links import sources_markdown
from assistant.llm.base import GenerationOptions

# The version of Ollama's API these endpoints follow; clients enable features by it.
OLLAMA_API_VERSION = "0.12.0"
MODIFIED_AT = datetime.now(UTC).isoformat()


def ollama_error(_: Request[Any, Any, Any], error: AssistantError) -> Response[dict[str, Any]]:
    return Response({"error": error.message}, status_code=http_status(error))


def _tagged(model: str) -> str:
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


def _details() -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "backchat-assistant",
        "family": "backchat",
        "families": ["backchat"],
        "parameter_size": "",
        "quantization_level": "",
    }


def _now() -> str:
    return datetime.now(UTC).isoformat()


def options_from(body: dict[str, Any]) -> GenerationOptions:
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise InvalidRequest("'options' must be an object")
    stop = options.get("stop") or ()
    return GenerationOptions(
        temperature=options.get("temperature"),
        max_tokens=options.get("num_predict")
        if isinstance(options.get("num_predict"), int) and options["num_predict"] > 0
        else None,
        stop=(stop,) if isinstance(stop, str) else tuple(stop),
    )


class OllamaController(Controller):
    path = "/ollama/api"
    tags = ("ollama-compatible",)
    exception_handlers = {AssistantError: ollama_error}  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/version", summary="The Ollama API version these endpoints follow")
    async def version(self) -> dict[str, str]:
        return {"version": OLLAMA_API_VERSION}

    @get("/tags", summary="One model per prompt template")
    async def tags_(self, request: Request[Any, Any, Any], core: Core) -> dict[str, Any]:
        check_api_key(request.headers.get("authorization"), core.settings)
        catalog = ModelCatalog(core.prompts, core.settings)
        models = []
        for model in catalog.ids():
            template = core.prompts.get(catalog.template_for(model))
            models.append(
                {
                    "name": _tagged(model),
                    "model": _tagged(model),
                    "modified_at": MODIFIED_AT,
                    "size": 0,
                    "digest": hashlib.sha256(f"{model}:{template.content_hash}".encode()).hexdigest(),
                    "details": _details(),
                }
            )
        return {"models": models}

    @get("/ps", summary="Models loaded in memory (none: templates are not loaded)")
    async def ps(self) -> dict[str, Any]:
        return {"models": []}

    @post("/show", status_code=200, summary="What a model (prompt template) is")
    async def show(self, request: Request[Any, Any, Any], core: Core) -> dict[str, Any]:
        check_api_key(request.headers.get("authorization"), core.settings)
        body = await request.json()
        model = str((body or {}).get("model") or (body or {}).get("name") or "")
        template = core.prompts.get(ModelCatalog(core.prompts, core.settings).template_for(model))
        return {
            "modelfile": f"# {template.description}\n",
            "parameters": f"temperature {template.temperature}" if template.temperature is not None else "",
            "template": "",
            "system": template.description,
            "details": _details(),
            "model_info": {"backchat.prompt.name": template.name, "backchat.prompt.version": template.version},
            "capabilities": ["completion"],
            "modified_at": MODIFIED_AT,
        }

    @post("/chat", status_code=200, summary="Chat grounded in the catalog; NDJSON stream unless stream is false")
    async def chat(self, request: Request[Any, Any, Any], core: Core) -> Response[Any]:
        body, model, question = await chat_request(request, core, options_from)
        started = time.perf_counter_ns()
        sources, buffered, rest = await start_answer(core.answerer, question)
        show_sources = core.settings.append_sources and question.retrieval
        source_dicts = [source.to_dict() for source in sources]
        name = _tagged(model)

        def final(pieces: int, record: dict[str, Any], content: str = "") -> dict[str, Any]:
            total = time.perf_counter_ns() - started
            first = (record.get("timings") or {}).get("first_token_ms") or 0
            return {
                "model": name,
                "created_at": _now(),
                "message": {"role": "assistant", "content": content},
                "done": True,
                "done_reason": "stop",
                "total_duration": total,
                "load_duration": 0,
                "prompt_eval_count": 0,
                "prompt_eval_duration": int(first * 1_000_000),
                "eval_count": pieces,  # streamed pieces: one token each from llama.cpp and Ollama
                "eval_duration": max(0, total - int(first * 1_000_000)),
                "sources": source_dicts,
                "prompt": record.get("prompt"),
            }

        if body.get("stream") is False:
            record, content, pieces = await whole_answer(buffered, rest, sources, show_sources)
            return Response(final(pieces, record, content))

        async def lines() -> AsyncIterator[str]:
            pieces = 0

            def line(content: str) -> str:
                message = {"role": "assistant", "content": content}
                return json.dumps({"model": name, "created_at": _now(), "message": message, "done": False}) + "\n"

            async for event in replay(buffered, rest):
                if isinstance(event, TokenEvent):
                    pieces += 1
                    yield line(event.text)
                elif isinstance(event, ErrorEvent):
                    yield line(f"\n\n⚠️ {event.message}")
                elif isinstance(event, DoneEvent):
                    if show_sources and sources:
                        yield line(sources_markdown(sources))
                    yield json.dumps(final(pieces, event.record)) + "\n"

        return Stream(lines(), media_type="application/x-ndjson")
