"""`assistant serve` as a real process on a loopback port: the API and the chat page on one port."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import BIN, free_port, run_process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(fixture_data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {
        "ASSISTANT_DATA_DIR": str(fixture_data_dir),
        "ASSISTANT_COLLECTION": "assistant-test",
        "ASSISTANT_LLM_MAX_TOKENS": "24",
        "ASSISTANT_BACKSTAGE_URL": "http://backstage.test:7007",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    env.pop("ASSISTANT_CONFIG", None)
    os.environ.pop("ASSISTANT_CONFIG", None)
    with run_process(
        [str(BIN / "assistant"), "serve", "--port", str(port)], f"http://127.0.0.1:{port}/healthz", env=env
    ):
        yield f"http://127.0.0.1:{port}"


def test_chat_page_is_served_at_the_root(served: str):
    page = httpx.get(served + "/")
    assert page.status_code == 200
    assert "<gradio-app" in page.text or "gradio" in page.text.lower()
    assert httpx.get(served + "/healthz").json() == {"status": "ok"}


def test_sse_stream_over_a_real_socket_arrives_token_by_token(served: str):
    events: list[str] = []
    # not a question the catalog graph answers, so the model writes all of it, piece by piece
    body = {"question": "What does the backchat-plugin component do?"}
    with httpx.stream("POST", served + "/api/chat", json=body, timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
            elif line.startswith("data:") and events[-1] == "done":
                record = json.loads(line.split(":", 1)[1])
    assert events[0] == "sources" and events[-1] == "done" and events.count("token") > 1
    assert record["sources"][0]["entity"] == "component:default/backchat-plugin"


def test_chat_page_answers_with_sources(served: str):
    from gradio_client import Client

    client = Client(served + "/", verbose=False, download_files=False)
    job = client.submit(
        "Who owns the backchat-plugin component?", "catalog-qa", "default", "gemma-3-270m-q4_k_m", api_name="/chat"
    )
    updates = list(job)
    final = job.result(timeout=120)
    assert len(updates) > 2, "the page should receive the answer as it streams"
    text = final if isinstance(final, str) else json.dumps(final)
    assert "Sources" in text
    assert "http://backstage.test:7007/catalog/default/component/backchat-plugin" in text
