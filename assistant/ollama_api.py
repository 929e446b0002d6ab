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
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get, post
from litestar.response import Stream

from assistant.answerer import Answerer, DoneEvent, ErrorEvent, TokenEvent
from assistant.compat import ModelCatalog, question_from_messages, replay, start_answer, whole_answer
from assistant.links import cited_numbers, sources_markdown
from assistant.llm.base import GenerationOptions
from assistant.permissions import Reader
from assistant.prompts import PromptLibrary
from assistant.settings import Settings
from assistant.web.openapi import OllamaError, also_streams, error_responses, ndjson_lines, success
from assistant.web.readers import READS_CATALOG

# The version of Ollama's API these endpoints follow; clients enable features by it.
OLLAMA_API_VERSION = "0.12.0"
MODIFIED_AT = datetime.now(UTC).isoformat()


class OllamaMessage(msgspec.Struct):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""


class OllamaOptions(msgspec.Struct):
    """The model options the assistant uses; others (num_ctx, seed, ...) are accepted and ignored."""

    temperature: Annotated[float, msgspec.Meta(ge=0)] | None = None
    num_predict: int | None = None  # Ollama reads -1 and -2 as "no limit"
    stop: str | list[str] | None = None


class OllamaChatRequest(msgspec.Struct, kw_only=True):
    """Ollama's chat request; fields the assistant does not use (tools, format, keep_alive) are accepted."""

    messages: Annotated[list[OllamaMessage], msgspec.Meta(min_length=1)]
    model: str | None = None
    stream: bool = True
    options: OllamaOptions | None = None


class OllamaShowRequest(msgspec.Struct, kw_only=True):
    model: str | None = None
    name: str | None = None  # what older clients send


class OllamaModels(msgspec.Struct):
    models: list[dict[str, Any]]


class OllamaChatResponse(msgspec.Struct):
    model: str
    created_at: str
    message: dict[str, Any]
    done: bool


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


def options_from(options: OllamaOptions | None) -> GenerationOptions:
    options = options or OllamaOptions()
    stop = options.stop or ()
    return GenerationOptions(
        temperature=options.temperature,
        max_tokens=options.num_predict if options.num_predict and options.num_predict > 0 else None,
        stop=(stop,) if isinstance(stop, str) else tuple(stop),
    )


class OllamaController(Controller):
    """Mounted under `/ollama/api` by the app factory, behind the API key guard and Ollama's error shape."""

    tags = ("ollama-compatible",)

    @get("/version", summary="The Ollama API version these endpoints follow", opt={"public": True})
    async def version(self) -> dict[str, str]:
        return {"version": OLLAMA_API_VERSION}

    @get(
        "/tags",
        summary="One model per prompt template",
        responses={**success(OllamaModels, "The models"), **error_responses(OllamaError, 401)},
    )
    async def tags_(self, models: ModelCatalog, prompts: PromptLibrary) -> dict[str, Any]:
        listed = []
        for model in models.ids():
            template = prompts.get(models.template_for(model))
            listed.append(
                {
                    "name": _tagged(model),
                    "model": _tagged(model),
                    "modified_at": MODIFIED_AT,
                    "size": 0,
                    "digest": hashlib.sha256(f"{model}:{template.content_hash}".encode()).hexdigest(),
                    "details": _details(),
                }
            )
        return {"models": listed}

    @get("/ps", summary="Models loaded in memory (none: templates are not loaded)", opt={"public": True})
    async def ps(self) -> OllamaModels:
        return OllamaModels(models=[])

    @post(
        "/show",
        status_code=200,
        summary="What a model (prompt template) is",
        responses=error_responses(OllamaError, 400, 401, 404, 422),
    )
    async def show(self, data: OllamaShowRequest, models: ModelCatalog, prompts: PromptLibrary) -> dict[str, Any]:
        template = prompts.get(models.template_for(data.model or data.name or ""))
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

    @post(
        "/chat",
        status_code=200,
        summary="Chat grounded in the catalog; NDJSON stream unless stream is false",
        responses={
            **success(OllamaChatResponse, "The answer (with `stream: false`), or its NDJSON lines"),
            **error_responses(OllamaError, 400, 401, 404, 413, 422, 502, 503, 504),
        },
        operation_class=also_streams(ndjson_lines("One JSON object a line; the last has `done: true`")),
        opt=READS_CATALOG,
    )
    async def chat(
        self,
        data: OllamaChatRequest,
        answerer: Answerer,
        models: ModelCatalog,
        settings: Settings,
        reader: Reader | None,
    ) -> Response[Any]:
        model = data.model or settings.model_name
        turns = [(message.role, message.content) for message in data.messages]
        question = question_from_messages(turns, model, models, options_from(data.options))
        question.reader = reader
        started = time.perf_counter_ns()
        sources, buffered, rest = await start_answer(answerer, question)
        show_sources = settings.append_sources and question.retrieval
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

        if not data.stream:
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
                        yield line(sources_markdown(sources, cited=cited_numbers(event.record)))
                    yield json.dumps(final(pieces, event.record)) + "\n"

        return Stream(lines(), media_type="application/x-ndjson")
