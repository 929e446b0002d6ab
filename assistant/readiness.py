"""What the service loads at start, and whether it has: `/readyz` is 503 until every part is loaded.

The parts (the embedding model, the keyword index, in-process LLMs) take seconds to load. The service
answers health checks meanwhile, but says it is not ready, and names what is still loading, so a load
balancer sends no questions that would wait for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

LOADING, READY, FAILED = "loading", "ready", "failed"
RETRY_SECONDS = 5.0  # a part that failed to load (a Chroma server not up yet) is tried again


class Readiness:
    """The state of each part loaded at start; thread-safe, written by the warm-up thread."""

    def __init__(self, parts: dict[str, Callable[[], Any]]) -> None:
        self._parts = parts
        self._lock = threading.Lock()
        self._state = dict.fromkeys(parts, LOADING)
        self._failures: dict[str, str] = {}
        self._started = time.monotonic()
        self.seconds: float | None = None  # how long loading took, once everything is ready

    def run(self, stop: threading.Event) -> None:
        """Load every part, in order, retrying failed ones until all are loaded or `stop` is set."""
        pending = list(self._parts)
        while pending and not stop.is_set():
            pending = [part for part in pending if not stop.is_set() and not self._load(part)]
            if pending:
                stop.wait(RETRY_SECONDS)

    def _load(self, part: str) -> bool:
        try:
            self._parts[part]()
        except Exception as error:
            log.warning("loading %s failed: %s", part, error)
            with self._lock:
                self._state[part] = FAILED
                self._failures[part] = str(getattr(error, "message", error))
            return False
        with self._lock:
            self._state[part] = READY
            self._failures.pop(part, None)
            everything = all(state == READY for state in self._state.values())
            if everything and self.seconds is None:
                self.seconds = round(time.monotonic() - self._started, 2)
        if everything:
            log.info("service ready in %.2f s (%s loaded)", self.seconds, ", ".join(self._state))
        return True

    @property
    def ready(self) -> bool:
        with self._lock:
            return all(state == READY for state in self._state.values())

    def report(self) -> dict[str, Any]:
        """For `/readyz`: what is still loading and what failed to load, with the reason."""
        with self._lock:
            return {
                "loading": [part for part, state in self._state.items() if state != READY],
                "failed": dict(self._failures),
                "loaded_in_seconds": self.seconds,
            }
