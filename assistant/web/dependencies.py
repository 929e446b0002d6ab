"""What handlers receive through `Provide`: the objects they use, each under its own name, never the whole Core."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.di import Provide

from assistant.compat import ModelCatalog
from assistant.core import Core


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def dependencies(core: Core, **extra: Any) -> dict[str, Provide]:
    """`answerer`, `settings`, `kb`, `prompts`, `backends`, `models`, `data_dir`, plus `extra` (e.g. `ingestor`)."""
    values = {
        "answerer": core.answerer,
        "settings": core.settings,
        "kb": core.kb,
        "prompts": core.prompts,
        "backends": core.backends,
        "models": ModelCatalog(core.prompts, core.settings),
        "data_dir": core.settings.data_dir,
        **extra,
    }
    return {name: Provide(_constant(value), sync_to_thread=False) for name, value in values.items()}
