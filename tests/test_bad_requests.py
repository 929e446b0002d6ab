"""Malformed, oversized and ill-typed input to every front door gets a 4xx in that protocol's error shape."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.app import create_app
from tests.conftest import make_settings, serve_in_thread

pytestmark = pytest.mark.slow
LIMIT_CHARS = 1000  # ASSISTANT_MAX_REQUEST_CHARS: bodies over 8 bytes a character are refused unread
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


def native(body: dict[str, Any]) -> str:
    assert set(body["error"]) <= {"code", "message", "field"} and body["error"]["message"]
    return body["error"].get("field") or ""


def openai(body: dict[str, Any]) -> str:
    assert set(body["error"]) == {"message", "type", "param", "code"} and body["error"]["message"]
    return body["error"]["param"] or ""


def ollama(body: dict[str, Any]) -> str:
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    return body["error"]


def mcp(body: dict[str, Any]) -> str:
    assert body["jsonrpc"] == "2.0" and body["error"]["code"] < 0 and body["error"]["message"]
    return body["error"]["message"]


Shape = Callable[[dict[str, Any]], str]
# (path, shape, an ill-typed body, the field it gets wrong)
DOORS: list[tuple[str, Shape, dict[str, Any], str]] = [
    ("/api/chat", native, {"question": "hi", "stream": "maybe"}, "stream"),
    ("/api/retrieve", native, {"question": "hi", "entity": "%%%"}, "entity"),
    ("/api/retrieve", native, {"question": "hi", "k": 0}, "k"),
    ("/api/retrieve", native, {"question": "hi", "k": "null"}, "k"),  # not taken for a missing k
    (
        "/v1/chat/completions",
        openai,
        {"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"},
        "temperature",
    ),
    ("/v1/chat/completions", openai, {"messages": [{"role": "wizard", "content": "hi"}]}, "messages"),
    ("/ollama/api/chat", ollama, {"messages": [{"role": "user", "content": 5}]}, "messages"),
    ("/ollama/api/show", ollama, {"model": ["a", "list"]}, "model"),
    ("/mcp", mcp, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": "nope"}, "params"),
]


@pytest.fixture(scope="module")
def service(fixture_data_dir: Path) -> Iterator[str]:
    settings = make_settings(
        fixture_data_dir, max_request_chars=LIMIT_CHARS, llm_type="ollama", llm_base_url="http://127.0.0.1:9"
    )
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        yield url


@pytest.mark.parametrize(("path", "shape"), sorted({(path, shape) for path, shape, _, _ in DOORS}, key=str))
def test_malformed_json_is_a_400_in_the_protocols_shape(service: str, path: str, shape: Shape):
    response = httpx.post(service + path, content=b'{"question": "hi", "messages": [', headers=HEADERS)
    assert response.status_code == 400
    shape(response.json())


@pytest.mark.parametrize(("path", "shape"), sorted({(path, shape) for path, shape, _, _ in DOORS}, key=str))
def test_oversized_body_is_a_413_in_the_protocols_shape(service: str, path: str, shape: Shape):
    huge = {"question": "x" * LIMIT_CHARS * 9, "messages": [{"role": "user", "content": "x"}]}
    response = httpx.post(service + path, content=json.dumps(huge), headers=HEADERS)
    assert response.status_code == 413
    shape(response.json())


@pytest.mark.parametrize(("path", "shape", "body", "field"), DOORS)
def test_ill_typed_field_is_refused_naming_it(service: str, path: str, shape: Shape, body: dict, field: str):
    response = httpx.post(service + path, json=body, headers=HEADERS)
    assert response.status_code in (400, 422)
    assert field in shape(response.json())


def test_wrong_method_and_unknown_path_keep_the_protocols_shape(service: str):
    wrong = httpx.get(service + "/v1/chat/completions")
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    openai(wrong.json())
    ollama(httpx.get(service + "/ollama/api/nope").json())
    assert native(httpx.get(service + "/api/nope").json()) == ""
