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
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get, post
from litestar.response import Stream

from assistant.answerer import Answerer, DoneEvent, ErrorEvent, TokenEvent
from assistant.compat import ModelCatalog, question_from_messages, replay, start_answer, text_of, whole_answer
from assistant.links import cited_numbers, sources_markdown
from assistant.llm.base import GenerationOptions
from assistant.permissions import Reader
from assistant.settings import Settings
from assistant.web.openapi import OpenAIError, also_streams, error_responses, sse_events, success
from assistant.web.readers import READS_CATALOG

STARTED = int(time.time())
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


class OpenAIMessage(msgspec.Struct):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    # a string, or a list of parts ({"type": "text", "text": ...}); null for assistant tool calls
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionRequest(msgspec.Struct, kw_only=True):
    """OpenAI's chat completion request; fields the assistant does not use (tools, n, ...) are accepted."""

    messages: Annotated[list[OpenAIMessage], msgspec.Meta(min_length=1)]
    model: str | None = None
    stream: bool = False
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    max_tokens: PositiveInt | None = None
    max_completion_tokens: PositiveInt | None = None
    stop: str | list[str] | None = None


class Model(msgspec.Struct):
    id: str
    object: str
    created: int
    owned_by: str


class ModelList(msgspec.Struct):
    object: str
    data: list[Model]


class ChatCompletion(msgspec.Struct):
    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    prompt: dict[str, Any] | None


def options_from(body: ChatCompletionRequest) -> GenerationOptions:
    stop = body.stop or ()
    return GenerationOptions(
        temperature=body.temperature,
        max_tokens=body.max_tokens or body.max_completion_tokens,
        stop=(stop,) if isinstance(stop, str) else tuple(stop),
    )


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": STARTED, "owned_by": "backchat-assistant"}


class OpenAIController(Controller):
    """Mounted under `/v1` by the app factory, behind the API key guard and OpenAI's error shape."""

    tags = ("openai-compatible",)

    @get(
        "/models",
        summary="One model per prompt template, plus configured aliases",
        responses={**success(ModelList, "The models"), **error_responses(OpenAIError, 401)},
    )
    async def models(self, models: ModelCatalog) -> dict[str, Any]:
        return {"object": "list", "data": [_model(model) for model in models.ids()]}

    @get(
        ["/models/{model_id:str}", "/models/{owner:str}/{model_id:str}"],
        summary="One model",
        responses={**success(Model, "The model"), **error_responses(OpenAIError, 400, 401, 404)},
    )
    async def model(self, models: ModelCatalog, model_id: str, owner: str | None = None) -> dict[str, Any]:
        """Model ids may hold one slash (`backstage/catalog-qa`): hence the second path."""
        model = f"{owner}/{model_id}" if owner else model_id
        models.template_for(model)
        return _model(model)

    @post(
        "/chat/completions",
        status_code=200,
        summary="Chat completion grounded in the catalog",
        responses={
            **success(ChatCompletion, "The completion, or (with `stream: true`) its chunks"),
            **error_responses(OpenAIError, 400, 401, 404, 413, 422, 502, 503, 504),
        },
        operation_class=also_streams(sse_events("Chunks as `data: {...}`, then `data: [DONE]`", named=False)),
        opt=READS_CATALOG,
    )
    async def chat_completions(
        self,
        data: ChatCompletionRequest,
        answerer: Answerer,
        models: ModelCatalog,
        settings: Settings,
        reader: Reader | None,
    ) -> Response[Any]:
        model = data.model or settings.model_name
        turns = [(message.role, text_of(message.content)) for message in data.messages]
        question = question_from_messages(turns, model, models, options_from(data))
        question.reader = reader
        sources, buffered, rest = await start_answer(answerer, question)
        show_sources = settings.append_sources and question.retrieval
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        source_dicts = [source.to_dict() for source in sources]

        if not data.stream:
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
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(payload)}\n\n"

        async def chunks() -> AsyncIterator[str]:
            yield chunk({"role": "assistant", "content": ""})
            async for event in replay(buffered, rest):
                if isinstance(event, TokenEvent):
                    yield chunk({"content": event.text})
                elif isinstance(event, ErrorEvent):  # cut mid-answer: keep what came, say so
                    yield chunk({"content": f"\n\n⚠️ {event.message}"})
                elif isinstance(event, DoneEvent):
                    if show_sources and sources:
                        yield chunk({"content": sources_markdown(sources, cited=cited_numbers(event.record))})
                    yield chunk({}, "stop", sources=source_dicts, prompt=event.record.get("prompt"))
            yield "data: [DONE]\n\n"

        return Stream(chunks(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
