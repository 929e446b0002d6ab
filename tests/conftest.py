"""Fixtures that build real parts: Chroma in a temp dir, the MiniLM embedder, llama.cpp, served ports."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant.embeddings import Embedder
from assistant.knowledge import KnowledgeBase, open_chroma
from assistant.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SHARED = REPO.parent / "shared"
BACKCHAT_FIXTURE = SHARED / "fixtures" / "backchat"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float = 120, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def serve_in_thread(app: object) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def run_process(
    args: list[str], url: str, env: dict[str, str] | None = None, timeout: float = 120
) -> Iterator[subprocess.Popen]:
    """Start a server process, wait until `url` answers, stop it afterwards."""
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(args, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(url, timeout, process)
        yield process
    finally:
        stop_process(process)
        log.close()


def stop_process(process: subprocess.Popen, grace: float = 15) -> None:
    """Ask a server process to stop; kill it if it has not after `grace` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder("all-MiniLM-L6-v2")


@pytest.fixture
def kb(tmp_path: Path, embedder: Embedder) -> KnowledgeBase:
    return KnowledgeBase(open_chroma(tmp_path, None), embedder, "test-collection")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the bundled GGUF, assembled once per test session."""
    from assistant.llm.llamacpp import bundled_model_path

    data_dir = tmp_path_factory.mktemp("models")
    bundled_model_path(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def gguf_file(model_dir: Path) -> Path:
    from assistant.llm.llamacpp import bundled_model_path

    return bundled_model_path(model_dir)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return load_settings(data_dir=data_dir, collection="assistant-test", **overrides)


def peer_settings(data_dir: Path, model_url: str, **overrides: object) -> Settings:
    """The assistant answering through the Ollama-protocol test peer: fast and predictable."""
    from tests.peers import ollama_server

    return make_settings(
        data_dir, llm_type="ollama", llm_base_url=model_url, **{"llm_model": ollama_server.MODEL, **overrides}
    )


@pytest.fixture(scope="session")
def fixture_data_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, model_dir: Path) -> Path:
    """A data dir with the Backchat fixture ingested (and the bundled model), shared by read-only tests."""
    from ingest.pipeline import run_ingest
    from ingest.sources.local_files import LocalFilesSource

    data_dir = tmp_path_factory.mktemp("fixture-data")
    (data_dir / "models").symlink_to(model_dir / "models", target_is_directory=True)
    kb = KnowledgeBase(open_chroma(data_dir, None), embedder, "assistant-test")
    run = run_ingest(kb, [LocalFilesSource(BACKCHAT_FIXTURE)], data_dir / "ingest.lock")
    assert run.ok, run.to_dict()
    return data_dir
