"""Every knob of the assistant, from `ASSISTANT_*` environment variables and an optional YAML file.

One `Settings` object is built at start (`load_settings`) and passed down; nothing deeper reads the
environment. Precedence: explicit overrides > environment > YAML file > defaults.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from assistant.errors import ConfigError

ENV_PREFIX = "ASSISTANT_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
BackendType = Literal["llamacpp", "ollama", "openai"]

_yaml_file: ContextVar[Path | None] = ContextVar("assistant_yaml_file", default=None)


class BackendConfig(BaseModel):
    """One named LLM backend. The default one comes from `ASSISTANT_LLM_*`, more from the YAML file."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    type: BackendType
    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    model_path: Path | None = None
    style: Literal["chat", "completion"] | None = Field(
        default=None,
        description="chat: send messages; completion: send one prompt (base models). "
        "Default: completion for the bundled base model, chat otherwise.",
    )
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tokens: int = Field(default=512, ge=1, le=32768)
    context_size: int | None = Field(
        default=None,
        ge=256,
        le=1_048_576,
        description="Context window in tokens; unset: the server's or the model's own (Ollama /api/show, the GGUF)",
    )
    threads: int | None = Field(default=None, ge=1)
    timeout_seconds: float = Field(default=300, gt=0, description="Whole answer")
    first_token_timeout_seconds: float = Field(default=120, gt=0, description="Until the first token arrives")
    connect_timeout_seconds: float = Field(default=5, gt=0)
    keep_alive: str | None = Field(default=None, description="Ollama: how long the model stays loaded")
    # Quirks of OpenAI-compatible servers, as configuration rather than code forks:
    models: list[str] | None = Field(
        default=None, description="Models to offer instead of asking the server (no or wrong /models listing)"
    )
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = Field(
        default="max_tokens", description="llama.cpp, vLLM and most local servers read max_tokens"
    )

    @model_validator(mode="after")
    def _needs_url(self) -> BackendConfig:
        if self.type in ("ollama", "openai") and not self.base_url:
            raise ValueError(f"backend '{self.name}' of type {self.type} needs a base_url")
        if self.type == "openai" and not self.model:
            raise ValueError(f"backend '{self.name}' of type openai needs a model")
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url of backend '{self.name}' must start with http:// or https://")
        return self


class Settings(BaseSettings):
    """All configuration. Field `foo` is `ASSISTANT_FOO` in the environment and `foo:` in the YAML file."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    data_dir: Path = Field(default=Path("data"), description="Where Chroma, models and caches live")

    # Backstage
    backstage_url: str = Field(default="http://localhost:7007", description="Backstage base URL")
    backstage_token: SecretStr | None = Field(default=None, description="Static external-access token")
    backstage_app_url: str | None = Field(
        default=None, description="Where users open Backstage, for links; default: backstage_url"
    )
    backstage_kinds: list[str] = Field(default_factory=list, description="Kinds to ingest; empty = all but Location")
    backstage_timeout_seconds: float = Field(default=30, gt=0, description="Per request to Backstage")
    backstage_retries: int = Field(default=4, ge=0, le=10, description="Retries on 429, 5xx and connection errors")
    backstage_page_size: int = Field(default=200, ge=1, le=10_000, description="Entities per catalog page")

    # Knowledge base
    chroma_url: str | None = Field(default=None, description="Chroma server; unset = embedded Chroma")
    collection: str = Field(default="backstage", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]$")
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="all-MiniLM-L6-v2 (bundled), or a local sentence-transformers folder or cached name",
    )
    embedding_batch_size: int = Field(default=32, ge=1, le=1024)
    sources: list[Path] = Field(default_factory=list, description="Default paths for `assistant ingest`")
    ingest_backstage: bool = Field(default=False, description="POST /api/admin/ingest also reads Backstage")
    admin_token: SecretStr | None = Field(default=None, description="Bearer token for /api/admin; unset = disabled")

    # Retrieval and answering
    top_k: int = Field(default=5, ge=1, le=50)
    max_context_chars: int | None = Field(
        default=None, ge=500, description="Optional cap on characters of source text; the token budget always applies"
    )
    max_question_chars: int = Field(default=4000, ge=10)
    max_history_messages: int = Field(default=20, ge=0)
    prompts_dir: Path = Field(default=PROJECT_ROOT / "prompts")
    default_prompt: str = "catalog-qa"

    # Default LLM backend (named "default"); more in `backends` from the YAML file.
    llm_type: BackendType = "llamacpp"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model_path: Path | None = Field(default=None, description="GGUF file; unset = bundled Gemma 3 270M")
    llm_max_tokens: int | None = Field(default=None, ge=1)
    llm_context_size: int | None = Field(default=None, ge=256)
    llm_threads: int | None = Field(default=None, ge=1)
    backends: list[BackendConfig] = Field(default_factory=list)
    default_backend: str = "default"

    # OpenAI- and Ollama-compatible endpoints
    api_keys: list[SecretStr] = Field(default_factory=list, description="Bearer keys for /v1 and /ollama; none = open")
    model_name: str = Field(default="backstage-assistant", description="Model id of the default prompt")
    model_aliases: dict[str, str] = Field(
        default_factory=dict, description="Extra model ids and the prompt each means, e.g. gpt-3.5-turbo: catalog-qa"
    )
    append_sources: bool = Field(default=True, description="Append a markdown list of sources to answers")
    max_messages: int = Field(default=100, ge=1, description="Most messages one compatible request may carry")
    max_request_chars: int = Field(default=200_000, ge=100, description="Most characters in all its messages")

    # Feedback on answers
    feedback_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the feedback database (a shared server for replicas); "
        "unset = SQLite file feedback.db in the data dir",
    )
    feedback_max_comment_chars: int = Field(default=2000, ge=1, description="Longest comment on an answer")
    feedback_keep_unrated_days: int = Field(
        default=30, ge=0, description="Answers nobody rated are deleted after this many days; 0 = kept forever"
    )
    # Rate limits on the answer endpoints (/api/chat, /v1/chat/completions, /ollama/api/chat)
    rate_limit_requests: int = Field(
        default=0, ge=0, description="Answers per period for each API key or client address; 0 = no limit"
    )
    rate_limit_period: Literal["second", "minute", "hour", "day"] = "minute"

    # Who may read what (see assistant/permissions)
    permissions: Literal["off", "backstage"] = Field(
        default="off",
        description="off: everyone who can reach the service sees everything; "
        "backstage: each answer only uses what the caller's Backstage user token may read",
    )
    permissions_cache_seconds: float = Field(
        default=30, ge=0, le=3600, description="How long Backstage's answer about one user and one entity is reused"
    )
    backstage_auth_provider: str = Field(
        default="guest",
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Backstage auth provider the chat page refreshes its user token from",
    )
    backstage_auth_env: str = Field(
        default="development", pattern=r"^[A-Za-z0-9._-]+$", description="The auth environment (auth.environment)"
    )

    # Service
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    root_path: str = Field(default="", description="Public path prefix when served behind a proxy")
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["'self'", "http://localhost:*", "http://127.0.0.1:*"],
        description="Origins allowed to show the chat page in an iframe (Backstage)",
    )

    @field_validator("backstage_url", "backstage_app_url", "chroma_url", "llm_base_url")
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value == "":
            if info.field_name == "backstage_url":
                raise ValueError("must be set: answers link into Backstage")
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("root_path")
    @classmethod
    def _root_path(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            raise ValueError("must start with / (for example /api/proxy/assistant)")
        return value

    @model_validator(mode="after")
    def _backends_consistent(self) -> Settings:
        names = [backend.name for backend in self.all_backends()]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"backend names must be unique; repeated: {', '.join(duplicates)}")
        if self.default_backend not in names:
            raise ValueError(f"default_backend '{self.default_backend}' is not one of: {', '.join(names)}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        yaml_file = _yaml_file.get()
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)

    def default_backend_config(self) -> BackendConfig:
        """The backend described by the `ASSISTANT_LLM_*` variables."""
        # The in-process model shares two cores with everything else: keep its answers short by default.
        max_tokens = self.llm_max_tokens or (256 if self.llm_type == "llamacpp" else 512)
        bundled_base_model = self.llm_type == "llamacpp" and self.llm_model_path is None
        optional = {"context_size": self.llm_context_size, "threads": self.llm_threads}
        return BackendConfig(
            name="default",
            type=self.llm_type,
            base_url=self.llm_base_url,
            model=self.llm_model,
            api_key=self.llm_api_key,
            model_path=self.llm_model_path,
            max_tokens=max_tokens,
            temperature=0.0 if bundled_base_model else 0.2,
            **{key: value for key, value in optional.items() if value is not None},
        )

    def all_backends(self) -> list[BackendConfig]:
        """The default backend first, then those of the YAML file; the file may redefine "default"."""
        if any(backend.name == "default" for backend in self.backends):
            return sorted(self.backends, key=lambda backend: backend.name != "default")
        return [self.default_backend_config(), *self.backends]

    @property
    def links_base_url(self) -> str:
        return self.backstage_app_url or self.backstage_url

    @property
    def feedback_url(self) -> str:
        return self.feedback_database_url or f"sqlite:///{(self.data_dir / 'feedback.db').resolve()}"


def _describe(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("", "__root__")]
    if location:
        name = ENV_PREFIX + location[0].upper()
        path = ".".join(location[1:])
        where = f"{name} ({path})" if path else name
    else:
        where = "settings"
    given = error.get("input")
    shown = "" if isinstance(given, dict) or given is None else f" (got {given!r})"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{where}: {message}{shown}"


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build the settings, or raise `ConfigError` naming each wrong setting."""
    path_text = config_file or os.environ.get(f"{ENV_PREFIX}CONFIG")
    path = Path(path_text) if path_text else None
    if path is not None and not path.is_file():
        raise ConfigError(f"{ENV_PREFIX}CONFIG: config file {path} does not exist")
    token = _yaml_file.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = [_describe(item) for item in error.errors()]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    except Exception as error:  # a YAML syntax error in the config file
        if path is not None and "yaml" in type(error).__module__:
            raise ConfigError(f"{ENV_PREFIX}CONFIG: {path} is not valid YAML: {error}") from None
        raise
    finally:
        _yaml_file.reset(token)
