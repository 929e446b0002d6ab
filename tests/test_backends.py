"""Each backend type against a real peer: llama.cpp in-process, llama.cpp's OpenAI server, an Ollama peer."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import BackendFailed, BackendTimeout, BackendUnreachable, ModelNotFound
from assistant.llm.base import GenerationOptions, LLMBackend
from assistant.llm.llamacpp import LlamaCppBackend
from assistant.llm.ollama import OllamaBackend
from assistant.llm.openai_compat import OpenAICompatibleBackend
from assistant.prompts import PromptLibrary, RenderedPrompt
from assistant.settings import PROJECT_ROOT, BackendConfig
from tests.conftest import free_port, run_process, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow

SOURCE = {
    "entity": "component:default/parcel-tracker",
    "text": "Component (service): Parcel Tracker [component:default/parcel-tracker]\n"
    "Owner: group:default/tracking-team",
}


@pytest.fixture(scope="module")
def prompt() -> RenderedPrompt:
    return PromptLibrary(PROJECT_ROOT / "prompts").render("catalog-qa", "Who owns parcel-tracker?", [SOURCE])


async def collect(backend: LLMBackend, prompt: RenderedPrompt, model: str | None = None) -> list[str]:
    try:
        return [piece async for piece in backend.stream(prompt, model, GenerationOptions(max_tokens=16))]
    finally:
        await backend.aclose()


# --- in-process llama.cpp -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llamacpp(model_dir: Path) -> LlamaCppBackend:
    return LlamaCppBackend(
        BackendConfig(name="local", type="llamacpp", max_tokens=24, context_size=2048, temperature=0), model_dir
    )


async def test_llamacpp_streams_an_answer_in_pieces(llamacpp: LlamaCppBackend, prompt: RenderedPrompt):
    pieces = await collect(llamacpp, prompt)
    assert len(pieces) > 1
    assert "".join(pieces).strip()


async def test_llamacpp_serves_concurrent_requests_from_one_model(llamacpp: LlamaCppBackend, prompt: RenderedPrompt):
    first, second = await asyncio.gather(collect(llamacpp, prompt), collect(llamacpp, prompt))
    assert "".join(first).strip() and "".join(second).strip()
    loaded = llamacpp._llama
    await collect(llamacpp, prompt)
    assert llamacpp._llama is loaded


async def test_llamacpp_missing_model_file_is_a_clear_error(tmp_path: Path, prompt: RenderedPrompt):
    config = BackendConfig(name="broken", type="llamacpp", model_path=tmp_path / "absent.gguf")
    backend = LlamaCppBackend(config, tmp_path)
    with pytest.raises(BackendFailed, match="ASSISTANT_LLM_MODEL_PATH"):
        await collect(backend, prompt)
    health = await backend.health()
    assert not health.ok and "absent.gguf" in health.detail


# --- llama.cpp's OpenAI-compatible server ---------------------------------------------------------


@pytest.fixture(scope="module")
def llama_server(gguf_file: Path) -> Iterator[str]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf_file),
        "--model_alias",
        "gemma-270m",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
    ]
    with run_process(args, f"http://127.0.0.1:{port}/v1/models"):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize("style", ["chat", "completion"])
async def test_openai_backend_streams_from_llama_cpp_server(llama_server: str, prompt: RenderedPrompt, style: str):
    config = BackendConfig(
        name="llama-server", type="openai", base_url=llama_server, model="gemma-270m", style=style, max_tokens=16
    )
    backend = OpenAICompatibleBackend(config)
    pieces = await collect(backend, prompt)
    assert len(pieces) > 1
    assert "gemma-270m" in await backend.models()
    assert (await backend.health()).ok


async def test_openai_backend_caps_answers_with_max_tokens(llama_server: str, prompt: RenderedPrompt):
    config = BackendConfig(name="short", type="openai", base_url=llama_server, model="gemma-270m", max_tokens=3)
    pieces = await collect(OpenAICompatibleBackend(config), prompt)
    assert 1 <= len(pieces) <= 3  # llama.cpp's server honours max_tokens, not max_completion_tokens


async def test_openai_backend_unreachable(prompt: RenderedPrompt):
    config = BackendConfig(name="down", type="openai", base_url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    backend = OpenAICompatibleBackend(config)
    with pytest.raises(BackendUnreachable, match="not answering"):
        await collect(backend, prompt)
    assert not (await backend.health()).ok


# --- Ollama's native API --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ollama_url() -> Iterator[str]:
    with serve_in_thread(ollama_server.app) as url:
        yield url


def ollama(url: str, **overrides: object) -> OllamaBackend:
    return OllamaBackend(
        BackendConfig(name="ollama", type="ollama", base_url=url, model=ollama_server.MODEL, **overrides)
    )


async def test_ollama_backend_streams_ndjson_pieces(ollama_url: str, prompt: RenderedPrompt):
    pieces = await collect(ollama(ollama_url), prompt)
    assert len(pieces) > 3
    assert "component:default/parcel-tracker" in "".join(pieces)


async def test_ollama_health_reports_version_and_models(ollama_url: str):
    health = await ollama(ollama_url).health()
    assert health.ok and health.version == "0.12.0"
    assert ollama_server.MODEL in health.models


async def test_ollama_unknown_model_says_so(ollama_url: str, prompt: RenderedPrompt):
    with pytest.raises(ModelNotFound, match=r"no model 'llama9:latest'; available: backchat-test:latest"):
        await collect(ollama(ollama_url), prompt, model="llama9:latest")


async def test_ollama_slow_first_token_times_out(ollama_url: str, prompt: RenderedPrompt):
    backend = ollama(ollama_url, first_token_timeout_seconds=1)
    with pytest.raises(BackendTimeout, match="before the first token"):
        await collect(backend, prompt, model=ollama_server.SLOW_MODEL)


async def test_ollama_stream_cut_midway_is_reported(ollama_url: str, prompt: RenderedPrompt):
    backend = ollama(ollama_url)
    received: list[str] = []
    with pytest.raises(BackendFailed):
        async for piece in backend.stream(prompt, ollama_server.CUT_MODEL):
            received.append(piece)
    assert len(received) == 2


async def test_ollama_unreachable(prompt: RenderedPrompt):
    backend = ollama(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(BackendUnreachable, match="is not answering"):
        await collect(backend, prompt)
    assert not (await backend.health()).ok
