"""`/readyz` says ready only once the embedder, the keyword index and the in-process model are loaded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from assistant.app import create_app
from tests.conftest import BIN, free_port, make_settings, stop_process, wait_for_http

pytestmark = pytest.mark.slow


def test_serve_answers_503_naming_what_is_loading_then_200(fixture_data_dir: Path, tmp_path: Path):
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(fixture_data_dir),
        "ASSISTANT_COLLECTION": "assistant-test",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    env.pop("ASSISTANT_CONFIG", None)
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "assistant"), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_http(f"{url}/healthz", process=process)
            # Loading the embedding model alone (importing torch) takes seconds: the first answer comes before.
            first = httpx.get(f"{url}/readyz", timeout=30)
            statuses = [first.status_code]
            deadline = time.monotonic() + 120
            while statuses[-1] != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
                ready = httpx.get(f"{url}/readyz", timeout=30)
                statuses.append(ready.status_code)
        finally:
            stop_process(process)
    assert first.status_code == 503
    body = first.json()
    assert body["ready"] is False and "embedding model" in body["loading"]
    assert set(body["loading"]) <= {"embedding model", "keyword index", "model of backend default"}
    assert statuses[-1] == 200, "the service became ready"
    assert ready.json()["loading"] == [] and ready.json()["loaded_in_seconds"] > 0
    assert "service ready in" in (tmp_path / "serve.log").read_text()


async def test_a_part_that_fails_to_load_is_named_and_tried_again(
    fixture_data_dir: Path, tmp_path: Path, gguf_file: Path
):
    model = tmp_path / "late.gguf"  # the model file appears only after the service started
    settings = make_settings(fixture_data_dir, llm_model_path=model, llm_max_tokens=8)
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        deadline = time.monotonic() + 60
        while "model of backend default" not in (body := (await client.get("/readyz")).json()).get("failed", {}):
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.2)
        assert body["ready"] is False and "does not exist" in body["failed"]["model of backend default"]

        model.symlink_to(gguf_file)
        while (response := await client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, response.json()
            await asyncio.sleep(0.5)
        assert response.json()["failed"] == {}
