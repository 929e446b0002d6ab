"""Rate limits on the answer endpoints: 429 with Retry-After, in the shape of each protocol, per key or address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import openai
import pytest

from assistant.app import create_app
from tests.conftest import peer_settings, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow

KEYS = ["key-one", "key-two"]


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    with serve_in_thread(ollama_server.app) as url:
        yield url


@pytest.fixture
def limited(fixture_data_dir: Path, model_url: str) -> Iterator[str]:
    limit = {"rate_limit_requests": 2, "rate_limit_period": "hour"}
    settings = peer_settings(fixture_data_dir, model_url, api_keys=KEYS, **limit)
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        yield url


def ask_native(url: str) -> httpx.Response:
    return httpx.post(f"{url}/api/chat", json={"question": "Who owns ollama?", "stream": False}, timeout=60)


def test_each_protocol_gets_429_with_retry_after_in_its_own_shape(limited: str):
    assert [ask_native(limited).status_code for _ in range(2)] == [200, 200]

    native = ask_native(limited)
    assert native.status_code == 429 and int(native.headers["retry-after"]) > 0
    assert native.json()["error"]["code"] == "rate_limit_exceeded"
    assert "2 answers per hour" in native.json()["error"]["message"]

    # The official clients see their own error types; no retries, so the 429 itself is what they get.
    client = openai.OpenAI(base_url=f"{limited}/v1", api_key="not-a-key", max_retries=0)
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="backstage-assistant", messages=[{"role": "user", "content": "hi"}])
    # the same window, asked a moment later: the same wait, give or take the second that passed
    assert abs(int(raised.value.response.headers["retry-after"]) - int(native.headers["retry-after"])) <= 1
    body = raised.value.body
    assert isinstance(body, dict) and body["code"] == "rate_limit_exceeded" and "retry in" in body["message"]

    with pytest.raises(ollama.ResponseError) as refused:
        ollama.Client(host=f"{limited}/ollama").chat(
            model="backstage-assistant", messages=[{"role": "user", "content": "hi"}]
        )
    assert refused.value.status_code == 429 and "too many requests" in refused.value.error

    # Only answers are limited: health, readiness and listings still answer.
    assert httpx.get(f"{limited}/healthz").status_code == 200
    assert httpx.get(f"{limited}/v1/models", headers={"Authorization": "Bearer key-one"}).status_code == 200


def test_each_api_key_has_its_own_allowance(limited: str):
    def ask(key: str) -> int:
        body = {"model": "backstage-assistant", "messages": [{"role": "user", "content": "Who owns ollama?"}]}
        headers = {"Authorization": f"Bearer {key}"}
        return httpx.post(f"{limited}/v1/chat/completions", json=body, headers=headers, timeout=60).status_code

    assert [ask("key-one") for _ in range(3)] == [200, 200, 429]
    assert ask("key-two") == 200
    # A made-up key counts as the client's address, so it cannot open a fresh allowance.
    assert [ask(f"made-up-{n}") for n in range(3)] == [401, 401, 429]


def test_no_limit_unless_configured(fixture_data_dir: Path, model_url: str):
    with serve_in_thread(create_app(peer_settings(fixture_data_dir, model_url), chat_page=False)) as url:
        assert [ask_native(url).status_code for _ in range(4)] == [200] * 4
