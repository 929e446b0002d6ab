"""The OpenAI- and Ollama-compatible endpoints, driven by real clients no one here wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import openai
import pytest

from assistant.app import create_app
from tests.conftest import make_settings, peer_settings, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow
QUESTION = "Who owns the backchat-plugin component?"
PLUGIN_URL = "http://backstage.test/catalog/default/component/backchat-plugin"


@pytest.fixture(scope="module")
def model_server() -> Iterator[str]:
    """The LLM behind the assistant: an Ollama-protocol peer, fast and predictable."""
    with serve_in_thread(ollama_server.app) as url:
        yield url


@pytest.fixture(scope="module")
def assistant_url(fixture_data_dir: Path, model_server: str) -> Iterator[str]:
    settings = peer_settings(
        fixture_data_dir,
        model_server,
        backstage_url="http://backstage.test",
        model_aliases={"gpt-3.5-turbo": "catalog-qa"},
    )
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        yield url


@pytest.fixture(scope="module")
def keyed_url(fixture_data_dir: Path, model_server: str) -> Iterator[str]:
    settings = peer_settings(fixture_data_dir, model_server, api_keys=["sk-team-secret"])
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        yield url


# --- OpenAI protocol -----------------------------------------------------------------------------


def test_openai_client_lists_one_model_per_template_and_aliases(assistant_url: str):
    client = openai.OpenAI(base_url=f"{assistant_url}/v1", api_key="unused")
    ids = {model.id for model in client.models.list()}
    assert {"backstage-assistant", "backstage/catalog-qa", "backstage/techdocs-howto", "gpt-3.5-turbo"} <= ids


def test_openai_client_streams_the_answer_in_pieces_with_sources(assistant_url: str):
    client = openai.OpenAI(base_url=f"{assistant_url}/v1", api_key="unused")
    stream = client.chat.completions.create(
        model="backstage-assistant", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 3
    text = "".join(pieces)
    assert "component:default/backchat-plugin" in text  # the model quoted its first source
    assert f"[Backchat Plugin]({PLUGIN_URL})" in text  # the appended sources list
    assert chunks[-1].choices[0].finish_reason == "stop"
    extra = chunks[-1].model_extra or {}
    assert extra["sources"][0]["entity"] == "component:default/backchat-plugin"


def test_openai_client_without_streaming(assistant_url: str):
    client = openai.OpenAI(base_url=f"{assistant_url}/v1", api_key="unused")
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=[
            {"role": "system", "content": "Answer in English."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! Ask me about the catalog."},
            {"role": "user", "content": QUESTION},
        ],
    )
    content = completion.choices[0].message.content or ""
    assert "component:default/backchat-plugin" in content and PLUGIN_URL in content
    assert completion.model_extra["prompt"]["name"] == "catalog-qa"


async def test_async_openai_client_streams(assistant_url: str):
    client = openai.AsyncOpenAI(base_url=f"{assistant_url}/v1", api_key="unused")
    stream = await client.chat.completions.create(
        model="backstage/catalog-qa", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    pieces = [
        chunk.choices[0].delta.content async for chunk in stream if chunk.choices and chunk.choices[0].delta.content
    ]
    assert len(pieces) > 3 and PLUGIN_URL in "".join(pieces)
    completion = await client.chat.completions.create(
        model="backstage/catalog-qa", messages=[{"role": "user", "content": QUESTION}]
    )
    assert PLUGIN_URL in (completion.choices[0].message.content or "")


def test_raw_stream_is_exactly_openai_shaped(assistant_url: str):
    body = {"model": "backstage-assistant", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", f"{assistant_url}/v1/chat/completions", json=body, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1


def test_unknown_model_gets_openai_error_listing_the_models(assistant_url: str):
    client = openai.OpenAI(base_url=f"{assistant_url}/v1", api_key="unused")
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
    assert "backstage-assistant" in str(raised.value)


def test_api_keys_are_enforced_with_openai_error_shape(keyed_url: str):
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{keyed_url}/v1", api_key="wrong").models.list()
    response = httpx.get(f"{keyed_url}/v1/models")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    ids = [m.id for m in openai.OpenAI(base_url=f"{keyed_url}/v1", api_key="sk-team-secret").models.list()]
    assert "backstage-assistant" in ids


@pytest.mark.parametrize(
    ("messages", "status"),
    [
        ([{"role": "user", "content": "x"}] * 101, 413),
        ([{"role": "user", "content": "x" * 250_000}], 413),
        ([{"role": "assistant", "content": "hello"}], 422),
        ("not a list", 422),
    ],
)
def test_request_limits_answer_in_openai_error_shape(assistant_url: str, messages: object, status: int):
    response = httpx.post(
        f"{assistant_url}/v1/chat/completions", json={"model": "backstage-assistant", "messages": messages}, timeout=30
    )
    assert response.status_code == status
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_langchain_chat_openai_uses_the_assistant_as_a_model(assistant_url: str):
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(base_url=f"{assistant_url}/v1", api_key="unused", model="backstage-assistant")
    pieces = [chunk.content for chunk in chat.stream(QUESTION) if chunk.content]
    assert len(pieces) > 3 and PLUGIN_URL in "".join(pieces)
    assert PLUGIN_URL in chat.invoke(QUESTION).content


# --- Ollama protocol -----------------------------------------------------------------------------


def test_ollama_client_lists_and_shows_models(assistant_url: str):
    client = ollama.Client(host=f"{assistant_url}/ollama")
    names = {model.model for model in client.list().models}
    assert {"backstage-assistant:latest", "backstage/catalog-qa:latest"} <= names
    shown = client.show("backstage/explain-api")
    assert "completion" in (shown.capabilities or [])


def test_ollama_client_streams_with_sources(assistant_url: str):
    client = ollama.Client(host=f"{assistant_url}/ollama")
    parts = list(
        client.chat(model="backstage-assistant", messages=[{"role": "user", "content": QUESTION}], stream=True)
    )
    texts = [part.message.content for part in parts if part.message.content]
    assert len(texts) > 3 and PLUGIN_URL in "".join(texts)
    assert parts[-1].done and parts[-1].eval_count and parts[-1].eval_count > 3


async def test_async_ollama_client_without_streaming(assistant_url: str):
    client = ollama.AsyncClient(host=f"{assistant_url}/ollama")
    response = await client.chat(
        model="backstage-assistant:latest", messages=[{"role": "user", "content": QUESTION}], stream=False
    )
    assert response.done and PLUGIN_URL in response.message.content


def test_ollama_unknown_model_is_an_ollama_error(assistant_url: str):
    with pytest.raises(ollama.ResponseError) as raised:
        ollama.Client(host=f"{assistant_url}/ollama").chat(model="llama9", messages=[{"role": "user", "content": "x"}])
    assert raised.value.status_code == 404 and "backstage-assistant" in raised.value.error


def test_langchain_chat_ollama_uses_the_assistant_as_a_model(assistant_url: str):
    from langchain_ollama import ChatOllama

    chat = ChatOllama(base_url=f"{assistant_url}/ollama", model="backstage-assistant")
    pieces = [chunk.content for chunk in chat.stream(QUESTION) if chunk.content]
    assert len(pieces) > 3 and PLUGIN_URL in "".join(pieces)


def test_open_webui_call_pattern(assistant_url: str):
    """What Open WebUI sends, as recorded in shared/notes/open-webui.md: version, tags, ps, then chats."""
    base = f"{assistant_url}/ollama"
    assert httpx.get(f"{base}/api/version").json()["version"]
    tags = httpx.get(f"{base}/api/tags").json()["models"]
    assert all(entry.get("model") and entry.get("name") for entry in tags)
    assert httpx.get(f"{base}/api/ps").status_code == 200
    tools = [
        {
            "type": "function",
            "function": {
                "name": f"tool_{n}",
                "description": "x" * 600,
                "parameters": {"type": "object", "properties": {}},
            },
        }
        for n in range(28)
    ]
    chat = {
        "model": tags[0]["model"],
        "stream": True,
        "tools": tools,
        "options": {"temperature": 0.7, "num_ctx": 4096},
        "messages": [{"role": "user", "content": QUESTION}],
    }
    with httpx.stream("POST", f"{base}/api/chat", json=chat, timeout=60) as response:
        assert response.status_code == 200  # tools are accepted, not refused
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert lines[-1]["done"] is True and "eval_count" in lines[-1]
    assert PLUGIN_URL in "".join(line["message"]["content"] for line in lines)
    title = {
        "model": tags[0]["model"],
        "stream": False,
        "options": {"num_predict": 1000},
        "messages": [
            {
                "role": "user",
                "content": '### Task:\nGenerate a concise title as JSON {"title": ...}'
                + "\n<chat_history>\n"
                + "USER: hi\n" * 800
                + "</chat_history>",
            }
        ],
    }
    answer = httpx.post(f"{base}/api/chat", json=title, timeout=60).json()
    assert answer["done"] is True
    assert answer["sources"] == [] and "**Sources**" not in answer["message"]["content"]  # no retrieval


def test_backend_down_gives_an_error_status_before_streaming(fixture_data_dir: Path):
    from tests.conftest import free_port

    settings = make_settings(
        fixture_data_dir, llm_type="ollama", llm_base_url=f"http://127.0.0.1:{free_port()}", llm_model="x"
    )
    how_to = "How do I start the AI servers for Backchat?"  # nothing the catalog graph answers by itself
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        with pytest.raises(openai.APIStatusError) as raised:
            client.chat.completions.create(
                model="backstage-assistant", messages=[{"role": "user", "content": how_to}], stream=True
            )
        assert raised.value.status_code == 503 and "not answering" in str(raised.value)
        response = httpx.post(
            f"{url}/ollama/api/chat",
            json={"model": "backstage-assistant", "messages": [{"role": "user", "content": how_to}]},
        )
        assert response.status_code == 503 and "not answering" in response.json()["error"]
        # what the catalog answers exactly still reaches the reader, then the backend's failure is said
        stream = client.chat.completions.create(
            model="backstage-assistant", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text.startswith("**component:default/backchat-plugin** is owned by") and "not answering" in text
