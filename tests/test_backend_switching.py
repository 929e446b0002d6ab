"""Choosing the backend and model per request, among the configured ones only; `assistant backends`."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from assistant.app import create_app
from tests.conftest import BIN, free_port, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def peer() -> Iterator[str]:
    with serve_in_thread(ollama_server.app) as url:
        yield url


def config_file(tmp_path: Path, peer: str) -> Path:
    file = tmp_path / "assistant.yaml"
    file.write_text(
        "backends:\n"
        f"  - {{name: team-ollama, type: ollama, base_url: '{peer}', model: '{ollama_server.MODEL}'}}\n"
        f"  - {{name: offline, type: openai, base_url: 'http://127.0.0.1:{free_port()}/v1', model: m}}\n"
    )
    return file


async def test_api_switches_backend_and_model_per_request(fixture_data_dir: Path, peer: str, tmp_path: Path):
    from assistant.settings import load_settings

    settings = load_settings(
        config_file(tmp_path, peer), data_dir=fixture_data_dir, collection="assistant-test", llm_max_tokens=8
    )
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        ask = {"question": "Who owns the ollama component?", "stream": False}
        default = (await client.post("/api/chat", json=ask)).json()
        assert (default["backend"], default["backend_type"]) == ("default", "llamacpp")
        chosen = (await client.post("/api/chat", json={**ask, "backend": "team-ollama"})).json()
        assert (chosen["backend"], chosen["model"]) == ("team-ollama", ollama_server.MODEL)
        assert "component:default/ollama" in chosen["answer"]
        slow = (
            await client.post("/api/chat", json={**ask, "backend": "team-ollama", "model": ollama_server.CUT_MODEL})
        ).json()
        assert slow["model"] == ollama_server.CUT_MODEL and slow["complete"] is False
        assert slow["answer"] and slow["error"]["code"] == "backend_failed"  # partial answer kept, marked
        missing = (await client.post("/api/chat", json={**ask, "backend": "team-ollama", "model": "nope"})).json()
        assert missing["error"]["code"] == "model_not_found" and ollama_server.MODEL in missing["error"]["message"]
        unknown = await client.post("/api/chat", json={**ask, "backend": "somebody-elses"})
        assert unknown.status_code == 404 and "team-ollama" in unknown.json()["error"]["message"]
        ready = (await client.get("/readyz")).json()
        states = {b["name"]: b["ok"] for b in ready["backends"]}
        assert states == {"default": True, "team-ollama": True, "offline": False}


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_COLLECTION": "assistant-test"})
    return subprocess.run([str(BIN / "assistant"), *args], env=env, capture_output=True, text=True, timeout=300)


def test_backends_command_reports_each_backend(fixture_data_dir: Path, peer: str, tmp_path: Path):
    result = cli("--config", str(config_file(tmp_path, peer)), "backends", "--json", data_dir=fixture_data_dir)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["backends"]}
    assert rows["default"]["ok"] and rows["default"]["default"]
    assert rows["team-ollama"]["ok"] and rows["team-ollama"]["version"] == "0.12.0"
    assert ollama_server.MODEL in rows["team-ollama"]["models"]
    assert not rows["offline"]["ok"] and "not answering" in rows["offline"]["detail"]
    text = cli("--config", str(config_file(tmp_path, peer)), "backends", data_dir=fixture_data_dir).stdout
    assert "DOWN" in text and "team-ollama" in text


def test_cli_ask_chooses_backend_and_model(fixture_data_dir: Path, peer: str, tmp_path: Path):
    result = cli(
        "--config",
        str(config_file(tmp_path, peer)),
        "ask",
        "Who owns the ollama component?",
        "--json",
        "--backend",
        "team-ollama",
        "--model",
        ollama_server.MODEL,
        data_dir=fixture_data_dir,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["backend"], record["model"]) == ("team-ollama", ollama_server.MODEL)
    down = cli(
        "--config", str(config_file(tmp_path, peer)), "ask", "hi", "--backend", "offline", data_dir=fixture_data_dir
    )
    assert down.returncode == 1 and "backend_unreachable" in down.stderr
