"""Named backends built from configuration; adding a backend type is adding one entry to `_FACTORIES`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assistant.errors import UnknownBackend
from assistant.llm.base import LLMBackend
from assistant.settings import BackendConfig, Settings


def _ollama(config: BackendConfig, data_dir: Path) -> LLMBackend:
    from assistant.llm.ollama import OllamaBackend

    return OllamaBackend(config)


def _openai(config: BackendConfig, data_dir: Path) -> LLMBackend:
    from assistant.llm.openai_compat import OpenAICompatibleBackend

    return OpenAICompatibleBackend(config)


def _llamacpp(config: BackendConfig, data_dir: Path) -> LLMBackend:
    from assistant.llm.llamacpp import LlamaCppBackend

    return LlamaCppBackend(config, data_dir)


_FACTORIES: dict[str, Callable[[BackendConfig, Path], LLMBackend]] = {
    "ollama": _ollama,
    "openai": _openai,
    "llamacpp": _llamacpp,
}


class BackendRegistry:
    """The configured backends by name; requests may choose only among these."""

    def __init__(self, backends: list[LLMBackend], default: str) -> None:
        self._backends = {backend.name: backend for backend in backends}
        self.default = default

    @classmethod
    def from_settings(cls, settings: Settings) -> BackendRegistry:
        backends = [_FACTORIES[config.type](config, settings.data_dir) for config in settings.all_backends()]
        return cls(backends, settings.default_backend)

    def names(self) -> list[str]:
        return list(self._backends)

    def all(self) -> list[LLMBackend]:
        return list(self._backends.values())

    async def aclose(self) -> None:
        """Close every backend's pooled connections on the running event loop (at shutdown, or after a CLI run)."""
        for backend in self._backends.values():
            await backend.aclose()

    def get(self, name: str | None = None) -> LLMBackend:
        key = name or self.default
        try:
            return self._backends[key]
        except KeyError:
            raise UnknownBackend(f"no backend '{key}'; configured: {', '.join(self._backends)}") from None
