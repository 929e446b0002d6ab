"""The HTTP API through an ASGI client, on the Backchat fixture with the in-process llama.cpp backend."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from assistant.app import create_app
from tests.conftest import free_port, make_settings, peer_settings, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow


def parse_sse(lines: list[str]) -> list[tuple[str, dict[str, Any]]]:
    events, name = [], None
    for line in lines:
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and name:
            events.append((name, json.loads(line.split(":", 1)[1])))
            name = None
    return events


@pytest.fixture(scope="module")
async def client(fixture_data_dir: Path) -> AsyncIterator[AsyncTestClient]:
    settings = make_settings(fixture_data_dir, llm_max_tokens=24, backstage_url="https://backstage.example.com")
    async with AsyncTestClient(create_app(settings, chat_page=False)) as test_client:
        yield test_client


async def test_chat_streams_sources_then_tokens_then_done(client: AsyncTestClient):
    body = {"question": "What does the backchat-plugin component do?"}  # the model writes all of this answer
    async with client.stream("POST", "/api/chat", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = parse_sse([line async for line in r.aiter_lines()])
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-1] == "done"
    assert names.count("token") > 1, "the answer should arrive in pieces"
    first = events[0][1]["sources"][0]
    assert first["entity"] == "component:default/backchat-plugin"
    assert first["url"] == "https://backstage.example.com/catalog/default/component/backchat-plugin"
    record = events[-1][1]
    assert record["complete"] is True
    assert record["answer"] == "".join(data["text"] for name, data in events if name == "token").strip()
    assert record["sources"][0]["entity"] == "component:default/backchat-plugin"
    assert record["prompt"]["name"] == "catalog-qa" and record["prompt"]["version"] and record["prompt"]["hash"]
    assert (record["backend"], record["model"]) == ("default", "gemma-3-270m-q4_k_m")


async def test_chat_without_stream_returns_the_record(client: AsyncTestClient):
    response = await client.post("/api/chat", json={"question": "What is the Tanzu group?", "stream": False})
    assert response.status_code == 200
    record = response.json()
    assert record["sources"][0]["entity"] == "group:default/tanzu"
    assert {"answer", "sources", "prompt", "backend", "model", "timings"} <= set(record)


async def test_techdocs_sources_link_to_the_page(client: AsyncTestClient):
    response = await client.post("/api/retrieve", json={"question": "What is on the Backchat plugin roadmap?"})
    pages = [s for s in response.json()["sources"] if s.get("page") == "the-backchat-plugin"]
    assert pages
    assert pages[0]["url"].startswith("https://backstage.example.com/docs/default/system/backchat/the-backchat-plugin/")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"question": "x" * 5000}, 413, "question_too_long"),
        ({"question": "   "}, 422, "invalid_request"),
        ({"question": "hi", "prompt": "nope"}, 404, "unknown_prompt"),
        ({"question": "hi", "backend": "gpt-9"}, 404, "unknown_backend"),
    ],
)
async def test_bad_requests_get_a_clear_error(client: AsyncTestClient, body: dict, status: int, code: str):
    response = await client.post("/api/chat", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_ill_typed_field_is_rejected_naming_it(client: AsyncTestClient):
    response = await client.post("/api/chat", json={"question": "hi", "history": "nope"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "history"


async def test_health_and_readiness(client: AsyncTestClient):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] and body["knowledge_base"]["chunks"] > 50
    assert body["backends"][0]["type"] == "llamacpp"


async def test_openapi_schema_lists_the_api(client: AsyncTestClient):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"/api/chat", "/api/retrieve", "/healthz", "/readyz"} <= set(paths)


async def test_unreachable_backend_still_shows_sources_and_service_stays_up(fixture_data_dir: Path):
    settings = make_settings(
        fixture_data_dir, llm_type="ollama", llm_base_url=f"http://127.0.0.1:{free_port()}", llm_model="llama3.2"
    )
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        async with client.stream("POST", "/api/chat", json={"question": "What is the mistral-7b resource?"}) as r:
            events = parse_sse([line async for line in r.aiter_lines()])
        names = [name for name, _ in events]
        assert names == ["sources", "error", "done"]
        assert events[0][1]["sources"][0]["entity"] == "resource:default/mistral-7b"
        assert events[1][1]["code"] == "backend_unreachable"
        assert "ASSISTANT_LLM_BASE_URL" in events[1][1]["message"]
        assert events[2][1]["complete"] is False
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503


async def test_ollama_backend_answers_through_the_api(fixture_data_dir: Path):
    with serve_in_thread(ollama_server.app) as url:
        settings = peer_settings(fixture_data_dir, url)
        async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
            response = await client.post(
                "/api/chat", json={"question": "Who owns the ollama component?", "stream": False}
            )
    record = response.json()
    assert record["complete"] and record["backend_type"] == "ollama"
    assert "component:default/ollama" in record["answer"]
