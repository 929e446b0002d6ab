"""The prompt fits each backend's context window, counted in tokens; the final record says what was left out."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from assistant.answerer import DoneEvent, Question
from assistant.app import create_app
from assistant.context_budget import ContextOverflow, fit_prompt
from assistant.core import build_core
from assistant.llm.base import GenerationOptions
from assistant.llm.ollama import OllamaBackend, window_from_show
from assistant.prompts import PromptLibrary
from assistant.settings import PROJECT_ROOT, BackendConfig
from assistant.tokens import EstimatedTokens, prompt_tokens
from tests.conftest import free_port, make_settings, run_process, serve_in_thread
from tests.peers import ollama_server, openai_server, recording_proxy

pytestmark = pytest.mark.slow

QUESTION = "Who owns the backchat-plugin component?"
SMALL_WINDOW, ANSWER_TOKENS = 1024, 128


def long_history(turns: int = 40) -> list[dict[str, str]]:
    """A long chat: 40 turns of about 280 characters each, alternating user and assistant."""
    history = []
    for n in range(turns):
        if n % 2 == 0:
            text = f"Question {n}: which team owns the ollama, localai and chatbot-ui components, and which system "
            text += "are they part of? Please list every relation the catalog has for each of them, with owners. "
        else:
            text = f"Answer {n}: the ollama component is owned by the backchat team and is part of the backchat "
            text += "system; localai and chatbot-ui are owned by the same group and depend on the ollama server. "
        history.append({"role": "user" if n % 2 == 0 else "assistant", "content": text * 2})
    return history


@pytest.fixture(scope="module")
def small_llama_server(gguf_file: Path) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server with a 1024-token window: it rejects or cuts what does not fit."""
    port = free_port()
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_file), "--model_alias", "gemma-270m"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(SMALL_WINDOW), "--n_threads", "2"]
    with run_process(args, f"http://127.0.0.1:{port}/v1/models"):
        yield f"http://127.0.0.1:{port}"


async def test_a_long_chat_reaches_a_1k_server_within_its_window(fixture_data_dir: Path, small_llama_server: str):
    proxy = recording_proxy.create_app(small_llama_server)
    history = long_history()
    assert sum(len(turn["content"]) for turn in history) > 11_000
    with serve_in_thread(proxy) as proxy_url:
        backend = {"name": "small", "type": "openai", "base_url": f"{proxy_url}/v1", "model": "gemma-270m"}
        backend |= {"context_size": SMALL_WINDOW, "max_tokens": ANSWER_TOKENS}
        settings = make_settings(
            fixture_data_dir, backends=[backend], default_backend="small", max_history_messages=100
        )
        core = build_core(settings)
        # Stop at the first word: the window is what is tested, not two cores generating 128 tokens.
        question = Question(QUESTION, history=history, options=GenerationOptions(stop=(" ", "\n")))
        events = [event async for event in core.answerer.answer(question)]
    record = events[-1].record if isinstance(events[-1], DoneEvent) else {}
    assert record["complete"] is True, record
    context = record["context"]
    assert context["budget_tokens"] == SMALL_WINDOW - ANSWER_TOKENS
    assert context["used_tokens"] <= context["budget_tokens"]
    assert context["history_dropped"] > 0 and context["counted_with"] == "estimate"

    sent = proxy.state.requests[-1]["messages"]
    system = core.prompts.render("catalog-qa", QUESTION).messages[0]["content"]
    assert sent[0] == {"role": "system", "content": system}, "the system prompt is never cut"
    assert sent[-1]["role"] == "user" and f"<question>\n{QUESTION}\n</question>" in sent[-1]["content"]
    kept = sent[1:-1]
    assert len(kept) == len(history) - context["history_dropped"]
    assert kept == history[len(history) - len(kept) :], "the most recent turns are the ones kept"
    assert not kept or kept[0]["role"] == "user"

    # The server's own count of the prompt it was sent, answer included, is within its window.
    check = {"model": "gemma-270m", "messages": sent, "max_tokens": 1}
    usage = httpx.post(f"{small_llama_server}/v1/chat/completions", json=check, timeout=120).json()["usage"]
    assert usage["prompt_tokens"] + ANSWER_TOKENS <= SMALL_WINDOW
    assert usage["prompt_tokens"] <= context["used_tokens"], "the estimate never counts fewer tokens"


@pytest.fixture
def model_server() -> Iterator[tuple[str, Any]]:
    app = openai_server.create_app()
    with serve_in_thread(app) as url:
        yield url, app


def backend_with(url: str, name: str, context_size: int) -> dict[str, Any]:
    return {"name": name, "type": "openai", "base_url": f"{url}/v1", "model": "echo", "context_size": context_size}


async def test_a_long_context_backend_gets_every_source_whole(fixture_data_dir: Path, model_server: tuple[str, Any]):
    url, peer = model_server
    backends = [backend_with(url, "long", 32_768), backend_with(url, "short", 2048)]
    settings = make_settings(fixture_data_dir, backends=backends, default_backend="long")
    app = create_app(settings, chat_page=False)
    body = {"question": "Explain the OpenAI API", "prompt": "explain-api", "stream": False}
    async with AsyncTestClient(app) as client:
        long = (await client.post("/api/chat", json=body)).json()
        short = (await client.post("/api/chat", json=body | {"backend": "short"})).json()
    requests = peer.state.requests
    long_prompt, short_prompt = (request["messages"][-1]["content"] for request in requests[-2:])

    definition = app.state.core.retriever.definition("api:default/openai-api")
    assert len(definition) > 6000, "the fixture's API definition is longer than the old 6000-character cut"
    assert long["context"]["sources_dropped"] == 0 and long["context"]["source_cut_chars"] == 0
    assert long_prompt.count("<source id=") == len(long["sources"]) == 5
    assert definition.strip()[-300:] in long_prompt, "the whole definition is quoted"

    assert short["complete"] is True
    assert short["context"]["sources_dropped"] > 0 or short["context"]["source_cut_chars"] > 0
    assert short["context"]["used_tokens"] <= short["context"]["budget_tokens"]
    assert len(short_prompt) < len(long_prompt)


async def test_a_question_that_cannot_fit_is_refused_in_the_protocols_shape(
    fixture_data_dir: Path, model_server: tuple[str, Any]
):
    url, _ = model_server
    settings = make_settings(fixture_data_dir, backends=[backend_with(url, "tiny", 1024)], default_backend="tiny")
    question = "How do I start " + "the backchat plugin and " * 160 + "?"
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        response = await client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "context_overflow" and "context window of 1024" in error["message"]


async def test_the_in_process_model_counts_with_its_own_tokenizer(fixture_data_dir: Path):
    settings = make_settings(fixture_data_dir, llm_max_tokens=8)
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        record = (await client.post("/api/chat", json={"question": QUESTION, "stream": False})).json()
    assert record["complete"] is True
    assert record["context"]["counted_with"] == "tokenizer"
    assert record["context"]["window_tokens"] == 4096 and record["context"]["budget_tokens"] == 4096 - 8


def test_what_does_not_fit_goes_oldest_turns_first_then_lowest_sources_then_the_end_of_the_last():
    library = PromptLibrary(PROJECT_ROOT / "prompts")
    sources = [{"entity": f"component:default/c{n}", "text": f"Source {n}. " + "word " * 300} for n in range(3)]
    history = long_history(6)
    counter = EstimatedTokens()

    def fit(window: int) -> Any:
        def render(turns: Any, quoted: Any) -> Any:
            return library.render("catalog-qa", QUESTION, quoted, turns)

        def count(prompt: Any) -> int:
            return prompt_tokens(prompt, "chat", counter)

        return fit_prompt(render, count, history, sources, window, 100, "estimate")

    full = prompt_tokens(library.render("catalog-qa", QUESTION, sources, history), "chat", counter)
    bare = prompt_tokens(library.render("catalog-qa", QUESTION, [], []), "chat", counter)
    one_source = prompt_tokens(library.render("catalog-qa", QUESTION, sources[:1], []), "chat", counter)

    assert fit(full + 100)[1].history_dropped == 0
    prompt, report = fit(full + 50)
    assert report.history_dropped == 2 and report.sources_dropped == 0, "the oldest question and its answer go"
    assert prompt.messages[1] == history[2]
    report = fit(one_source + 300)[1]
    assert report.history_dropped == 6 and report.sources_dropped == 1 and report.source_cut_chars > 0
    prompt, report = fit(bare + 300)
    assert report.sources_dropped == 2 and report.source_cut_chars > 0
    assert "Source 0." in prompt.messages[-1]["content"] and "[…]" in prompt.messages[-1]["content"]
    assert report.used_tokens <= report.budget_tokens
    with pytest.raises(ContextOverflow, match="context window"):
        fit(bare + 50)


async def test_ollama_window_comes_from_api_show_and_is_sent_as_num_ctx():
    with serve_in_thread(ollama_server.app) as url:
        config = BackendConfig(name="ollama", type="ollama", base_url=url, model=ollama_server.MODEL)
        backend = OllamaBackend(config)
        assert await backend.context_window(ollama_server.MODEL) == ollama_server.CONTEXT_LENGTH
        prompt = PromptLibrary(PROJECT_ROOT / "prompts").render("general", QUESTION)
        assert [piece async for piece in backend.stream(prompt)]
    assert ollama_server.CHATS[-1]["options"]["num_ctx"] == ollama_server.CONTEXT_LENGTH


def test_a_modelfile_num_ctx_wins_over_the_models_own_length():
    shown = {"parameters": 'num_ctx    8192\nstop "<|eot_id|>"', "model_info": {"llama.context_length": 1}}
    assert window_from_show(shown) == 8192
    assert window_from_show({"model_info": {"qwen2.context_length": 32768}}) == 32768
    assert window_from_show({}) is None
