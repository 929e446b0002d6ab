"""docker-compose.yaml cannot run here (no Docker engine); check that it says what the README promises."""

from pathlib import Path

import yaml

from tests.conftest import REPO


def test_compose_runs_the_assistant_with_chroma_and_ollama():
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    services = compose["services"]
    assert {"assistant", "chroma", "ollama"} <= set(services)
    env = services["assistant"]["environment"]
    assert env["ASSISTANT_CHROMA_URL"].startswith("http://chroma:")
    assert env["ASSISTANT_LLM_TYPE"] == "ollama"
    assert env["ASSISTANT_LLM_BASE_URL"] == "http://ollama:11434"
    assert env["ASSISTANT_LLM_MODEL"]
    assert set(services["assistant"]["depends_on"]) >= {"chroma", "ollama"}
    assert (REPO / services["assistant"]["build"]).resolve() == REPO.resolve()
    assert Path(REPO / "Dockerfile").is_file()
    for name in ("assistant-data", "chroma-data", "ollama-models"):
        assert name in compose["volumes"]


def test_backstage_snippet_points_backchat_through_the_proxy():
    config = yaml.safe_load((REPO / "backstage" / "app-config.backchat.yaml").read_text())
    endpoint = config["proxy"]["endpoints"]["/assistant"]
    assert endpoint["target"].startswith("http://") and endpoint["changeOrigin"] is True
    assert "/api/proxy/assistant/" in config["ai_server"]["url"]
