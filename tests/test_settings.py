from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.settings import load_settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ASSISTANT_DATA_DIR", "ASSISTANT_LLM_TYPE", "ASSISTANT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.data_dir == Path("data")
    assert settings.chroma_url is None
    backend = settings.all_backends()[0]
    assert (backend.name, backend.type, backend.model_path) == ("default", "llamacpp", None)


def test_environment_sets_the_stable_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSISTANT_BACKSTAGE_URL", "https://backstage.example.com/")
    monkeypatch.setenv("ASSISTANT_BACKSTAGE_TOKEN", "s3cret-token")
    monkeypatch.setenv("ASSISTANT_LLM_TYPE", "openai")
    monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "mistral")
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "sk-local")
    settings = load_settings()
    assert settings.data_dir == tmp_path
    assert settings.backstage_url == "https://backstage.example.com"
    assert settings.backstage_token is not None and settings.backstage_token.get_secret_value() == "s3cret-token"
    backend = settings.all_backends()[0]
    assert (backend.type, backend.base_url, backend.model) == (
        "openai",
        "http://127.0.0.1:8080/v1",
        "mistral",
    )
    assert backend.api_key is not None and backend.api_key.get_secret_value() == "sk-local"
    assert "s3cret" not in repr(settings)


def test_yaml_file_adds_named_backends_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "assistant.yaml"
    config.write_text(
        "top_k: 7\n"
        "backstage_url: http://from-file:7007\n"
        "backends:\n"
        "  - name: ollama-local\n    type: ollama\n    base_url: http://127.0.0.1:11434\n    model: llama3.2\n"
    )
    monkeypatch.setenv("ASSISTANT_BACKSTAGE_URL", "http://from-env:7007")
    settings = load_settings(config)
    assert settings.top_k == 7
    assert settings.backstage_url == "http://from-env:7007"
    assert [b.name for b in settings.all_backends()] == ["default", "ollama-local"]


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("ASSISTANT_TOP_K", "many", "ASSISTANT_TOP_K"),
        ("ASSISTANT_LLM_TYPE", "gpt4all", "ASSISTANT_LLM_TYPE"),
        ("ASSISTANT_BACKSTAGE_URL", "backstage:7007", "ASSISTANT_BACKSTAGE_URL"),
        ("ASSISTANT_BACKSTAGE_URL", "", "ASSISTANT_BACKSTAGE_URL"),
        ("ASSISTANT_PORT", "99999", "ASSISTANT_PORT"),
        ("ASSISTANT_DEFAULT_BACKEND", "nope", "default_backend"),
    ],
)
def test_wrong_values_fail_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=named):
        load_settings()


def test_ollama_backend_without_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_TYPE", "ollama")
    with pytest.raises(ConfigError, match="needs a base_url"):
        load_settings().all_backends()


def test_missing_or_broken_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("top_k: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("topk: 3\n")
    with pytest.raises(ConfigError, match="ASSISTANT_TOPK"):
        load_settings(unknown)
