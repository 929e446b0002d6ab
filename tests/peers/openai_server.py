"""An OpenAI-protocol server that reproduces the quirks and faults of real local servers.

Behaviour by model name: `echo` answers normally (word by word), `slow` waits before its first chunk,
`cut` drops the connection after two chunks, `crash` answers 500, `garbled` sends a line that is not
JSON, `too-long` answers 400 with OpenAI's error body. Server-wide quirks: no `/v1/models` listing, a
server that ignores the model name, a completion-only server (no chat endpoint). Every request body is
recorded in `requests` so tests can see which fields were sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.response import Stream

ANSWER = "The parcel-tracker component is owned by the tracking team."


def create_app(*, list_models: bool = True, ignore_model: bool = False, chat: bool = True) -> Litestar:
    requests: list[dict[str, Any]] = []
    known = ["echo", "slow", "cut", "crash", "garbled", "too-long"]

    @get("/v1/models")
    async def models() -> Response[Any]:
        if not list_models:
            return Response({"error": {"message": "Not Found"}}, status_code=404)
        return Response({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "test"} for m in known]})

    def error(status: int, message: str) -> Response[Any]:
        return Response(
            {"error": {"message": message, "type": "invalid_request_error", "code": None}}, status_code=status
        )

    async def answer(request: Request[Any, Any, Any], kind: str) -> Response[Any]:
        body = await request.json()
        requests.append(body)
        model = "echo" if ignore_model else body.get("model")
        if model not in known:
            return error(404, f"The model `{model}` does not exist")
        if model == "crash":
            return error(500, "model runner crashed")
        if model == "too-long":
            return error(400, "This model's maximum context length is 2048 tokens")
        limit = body.get("max_tokens") or 1000
        words = [f"{w} " for w in ANSWER.split()][:limit]

        def chunk(text: str, finish: str | None = None) -> str:
            choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
            if kind == "chat.completion":
                choice["delta"] = {"content": text} if text else {}
            else:
                choice["text"] = text
            data = {
                "id": "x",
                "object": f"{kind}.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [choice],
            }
            return f"data: {json.dumps(data)}\n\n"

        if not body.get("stream"):
            text = "".join(words)
            choice = {"index": 0, "finish_reason": "stop"}
            choice |= (
                {"message": {"role": "assistant", "content": text}} if kind == "chat.completion" else {"text": text}
            )
            return Response(
                {"id": "x", "object": kind, "created": int(time.time()), "model": model, "choices": [choice]}
            )

        async def events() -> AsyncIterator[str]:
            if model == "slow":
                await asyncio.sleep(3)
            for number, word in enumerate(words):
                if model == "cut" and number == 2:
                    raise ConnectionResetError("server went away")
                if model == "garbled" and number == 2:
                    yield "data: {this is not json\n\n"
                yield chunk(word)
                await asyncio.sleep(0.005)
            yield chunk("", "stop")
            yield "data: [DONE]\n\n"

        return Stream(events(), media_type="text/event-stream")

    @post("/v1/chat/completions")
    async def chat_completions(request: Request[Any, Any, Any]) -> Response[Any]:
        if not chat:
            return error(404, "This server only serves /v1/completions")
        return await answer(request, "chat.completion")

    @post("/v1/completions")
    async def completions(request: Request[Any, Any, Any]) -> Response[Any]:
        return await answer(request, "text_completion")

    app = Litestar([models, chat_completions, completions])
    app.state.requests = requests
    return app
