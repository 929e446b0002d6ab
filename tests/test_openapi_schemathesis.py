"""Schemathesis over the served OpenAPI document, every check, against `assistant serve` on a loopback port.

The document must describe every response each endpoint gives (statuses, content types, bodies, the
streams), accept what it calls valid and reject what it calls invalid with a 4xx in the protocol's shape.
Bounded: a fixed seed, a few examples per operation and a time budget for the whole run.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BIN, free_port, run_process, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow

# One rule of both chat protocols is beyond JSON Schema: the *last* message must be the user's question
# (with text). A schema-valid conversation that breaks it is refused with 422, which is right.
CONFIG = """
[[operations]]
include-path = ["/v1/chat/completions", "/ollama/api/chat"]

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""


@pytest.fixture(scope="module")
def served(fixture_data_dir: Path) -> Iterator[str]:
    port = free_port()
    with serve_in_thread(ollama_server.app) as model_url:
        env = {
            "ASSISTANT_DATA_DIR": str(fixture_data_dir),
            "ASSISTANT_COLLECTION": "assistant-test",
            "ASSISTANT_LLM_TYPE": "ollama",
            "ASSISTANT_LLM_BASE_URL": model_url,
            "ASSISTANT_LLM_MODEL": ollama_server.MODEL,
            "GRADIO_ANALYTICS_ENABLED": "False",
        }
        os.environ.pop("ASSISTANT_CONFIG", None)
        command = [str(BIN / "assistant"), "serve", "--port", str(port)]
        with run_process(command, f"http://127.0.0.1:{port}/healthz", env=env):
            yield f"http://127.0.0.1:{port}"


def test_schemathesis_finds_nothing_the_openapi_document_does_not_describe(served: str, tmp_path: Path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        str(BIN / "st"),
        "--config-file",
        str(config),
        "run",
        f"{served}/schema/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        "8",
        "--max-time",
        "40",
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--no-color",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "14 passed" in run.stdout or "passed" in run.stdout
