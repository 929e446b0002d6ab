"""An Ollama-protocol server following Ollama's documented API: `/api/version`, `/api/tags`, `/api/show`,
`/api/chat`.

`/api/chat` streams NDJSON: one line per piece with `message.content`, then a final line with `done: true`
and the eval counters; with `"stream": false` it answers one JSON object. It "knows" one model and
answers by quoting the first entity reference it finds in the prompt, word by word.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.response import Stream

MODEL = "backchat-test:latest"
SLOW_MODEL = "slow-test:latest"  # waits before its first line, like a model still loading
CUT_MODEL = "cut-test:latest"  # drops the connection after two pieces
CITING_MODEL = "cites-test:latest"  # cites a source that exists and one that does not, split across pieces
MODELS = (MODEL, SLOW_MODEL, CUT_MODEL, CITING_MODEL)
CONTEXT_LENGTH = 131072  # what `/api/show` reports, like Llama 3.2's
CHATS: list[dict[str, Any]] = []  # every /api/chat body received, for tests that check what was sent


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _reply(messages: list[dict[str, Any]]) -> list[str]:
    prompt = "\n".join(str(m.get("content", "")) for m in messages)
    found = re.search(r"entity=\"([a-z]+:[\w.-]+/[\w.-]+)\"", prompt)
    subject = found.group(1) if found else "nothing in the catalog"
    return [f"{word} " for word in f"According to the catalog, see {subject} [1].".split()]


@get("/api/version")
async def version() -> dict[str, str]:
    return {"version": "0.12.0"}


@get("/api/tags")
async def tags() -> dict[str, Any]:
    return {
        "models": [
            {
                "name": MODEL,
                "model": MODEL,
                "modified_at": _now(),
                "size": 1,
                "digest": "0" * 64,
                "details": {"family": "test"},
            }
        ]
    }


@post("/api/show", status_code=200)
async def show(request: Request[Any, Any, Any]) -> Response[Any]:
    body = await request.json()
    model = body.get("model") or body.get("name")
    if model not in MODELS:
        return Response({"error": f"model '{model}' not found"}, status_code=404)
    return Response(
        {
            "modelfile": f"FROM {model}",
            "parameters": 'stop "<|eot_id|>"',
            "template": "{{ .Prompt }}",
            "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
            "model_info": {"general.architecture": "llama", "llama.context_length": CONTEXT_LENGTH},
            "capabilities": ["completion"],
        }
    )


@post("/api/chat")
async def chat(request: Request[Any, Any, Any]) -> Response[Any]:
    body = await request.json()
    CHATS.append(body)
    model = body.get("model")
    if model not in MODELS:
        return Response({"error": f"model '{model}' not found"}, status_code=404)
    pieces = ["The docs say more", " [", "1]", " and", " [4", "2].", " Done."] if model == CITING_MODEL else None
    pieces = pieces or _reply(body.get("messages", []))
    final = {
        "model": MODEL,
        "created_at": _now(),
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 1000,
        "load_duration": 10,
        "prompt_eval_count": 42,
        "prompt_eval_duration": 100,
        "eval_count": len(pieces),
        "eval_duration": 500,
    }
    if body.get("stream") is False:
        final["message"]["content"] = "".join(pieces)
        return Response(final)

    async def lines() -> AsyncIterator[bytes]:
        if model == SLOW_MODEL:
            await asyncio.sleep(3)
        for number, piece in enumerate(pieces):
            if model == CUT_MODEL and number == 2:
                raise ConnectionResetError("peer went away")
            line = {
                "model": MODEL,
                "created_at": _now(),
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            yield (json.dumps(line) + "\n").encode()
            await asyncio.sleep(0.01)
        yield (json.dumps(final) + "\n").encode()

    return Stream(lines(), media_type="application/x-ndjson")


app = Litestar([version, tags, show, chat])
