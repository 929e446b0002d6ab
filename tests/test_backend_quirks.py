"""The OpenAI-compatible backend against each quirk and fault of real servers, reproduced by a test peer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from assistant.errors import BackendFailed, BackendTimeout, ModelNotFound
from assistant.llm.base import GenerationOptions
from assistant.llm.openai_compat import OpenAICompatibleBackend
from assistant.prompts import PromptLibrary, RenderedPrompt
from assistant.settings import PROJECT_ROOT, BackendConfig
from tests.conftest import serve_in_thread
from tests.peers import openai_server


@pytest.fixture(scope="module")
def prompt() -> RenderedPrompt:
    return PromptLibrary(PROJECT_ROOT / "prompts").render("general", "Who owns parcel-tracker?")


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list]]:
    app = openai_server.create_app()
    with serve_in_thread(app) as url:
        yield f"{url}/v1", app.state.requests


def backend(url: str, model: str = "echo", **config: object) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(BackendConfig(name="quirky", type="openai", base_url=url, model=model, **config))


async def collect(b: OpenAICompatibleBackend, prompt: RenderedPrompt, pieces: list[str] | None = None) -> str:
    pieces = [] if pieces is None else pieces
    try:
        async for piece in b.stream(prompt, options=GenerationOptions(max_tokens=50)):
            pieces.append(piece)
    finally:
        await b.aclose()
    return "".join(pieces)


async def test_sends_max_tokens_not_max_completion_tokens(server, prompt):
    url, requests = server
    await collect(backend(url, max_tokens=4), prompt)
    assert requests[-1]["max_tokens"] == 4 and "max_completion_tokens" not in requests[-1]
    await collect(backend(url, max_tokens_field="max_completion_tokens"), prompt)
    assert "max_completion_tokens" in requests[-1]


async def test_server_without_model_listing_uses_configured_models(prompt):
    with serve_in_thread(openai_server.create_app(list_models=False)) as url:
        quirky = backend(f"{url}/v1", models=["echo", "slow"])
        assert await quirky.models() == ["echo", "slow"]
        health = await quirky.health()
        assert health.ok and "404" in health.detail
        assert "tracking team" in await collect(quirky, prompt)


async def test_server_that_ignores_the_model_name(prompt):
    with serve_in_thread(openai_server.create_app(ignore_model=True)) as url:
        assert "tracking team" in await collect(backend(f"{url}/v1", model="gpt-3.5-turbo"), prompt)


async def test_completion_only_server_for_base_models(prompt):
    with serve_in_thread(openai_server.create_app(chat=False)) as url:
        with pytest.raises(ModelNotFound):
            await collect(backend(f"{url}/v1"), prompt)
        app_requests = []
        text = await collect(backend(f"{url}/v1", style="completion"), prompt, app_requests)
        assert "tracking team" in text and len(app_requests) > 3


async def test_unknown_model_lists_the_available_ones(server, prompt):
    url, _ = server
    with pytest.raises(ModelNotFound, match=r"no model 'gpt-9'; available: echo, slow, cut"):
        await collect(backend(url, model="gpt-9"), prompt)


async def test_server_error_500_is_reported_with_its_message(server, prompt):
    url, _ = server
    with pytest.raises(BackendFailed, match="500: model runner crashed"):
        await collect(backend(url, model="crash"), prompt)


async def test_4xx_from_the_server_passes_its_message(server, prompt):
    url, _ = server
    with pytest.raises(BackendFailed, match="400: This model's maximum context length"):
        await collect(backend(url, model="too-long"), prompt)


async def test_slow_first_token_times_out(server, prompt):
    url, _ = server
    with pytest.raises(BackendTimeout, match="before the first token"):
        await collect(backend(url, model="slow", first_token_timeout_seconds=1), prompt)


async def test_stream_cut_keeps_the_partial_answer(server, prompt):
    url, _ = server
    pieces: list[str] = []
    with pytest.raises(BackendFailed):
        await collect(backend(url, model="cut"), prompt, pieces)
    assert "".join(pieces) == "The parcel-tracker "


async def test_invalid_json_line_is_a_backend_failure(server, prompt):
    url, _ = server
    pieces: list[str] = []
    with pytest.raises(BackendFailed):
        await collect(backend(url, model="garbled"), prompt, pieces)
    assert len(pieces) == 2


async def test_many_answers_in_flight_share_one_backend(server, prompt):
    """Answers streamed at once through one backend all arrive whole, each sent to the server once."""
    url, requests = server
    shared = backend(url)
    before = len(requests)

    async def one() -> str:
        return "".join([piece async for piece in shared.stream(prompt, options=GenerationOptions(max_tokens=50))])

    try:
        for _ in range(2):
            answers = await asyncio.gather(*(one() for _ in range(32)))
            assert all("tracking team" in answer for answer in answers)
    finally:
        await shared.aclose()
    assert len(requests) - before == 64
