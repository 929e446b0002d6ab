"""What the answer pipeline takes (`Question`) and what it yields, in order: sources, tokens, done (an error
event before done when the backend fails). Every front door consumes these and translates them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.documents import Source
from assistant.errors import LLMError
from assistant.llm.base import GenerationOptions
from assistant.permissions import Reader
from assistant.prompt_templates import ChatMessage


@dataclass(frozen=True)
class SourcesEvent:
    sources: list[Source]
    type: str = "sources"


@dataclass(frozen=True)
class TokenEvent:
    text: str
    type: str = "token"


@dataclass(frozen=True)
class ErrorEvent:
    code: str
    message: str
    type: str = "error"
    error: LLMError | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DoneEvent:
    record: dict[str, Any]
    type: str = "done"


AnswerEvent = SourcesEvent | TokenEvent | ErrorEvent | DoneEvent
# Told about every final record before it is yielded (metrics, the feedback store); runs in a worker thread.
AnswerObserver = Callable[[dict[str, Any]], None]


@dataclass
class Question:
    """One request to the pipeline, as every front door describes it."""

    text: str
    history: Sequence[ChatMessage] = ()
    prompt: str | None = None
    backend: str | None = None
    model: str | None = None
    entity: str | None = None
    k: int | None = None
    options: GenerationOptions = field(default_factory=GenerationOptions)
    client_system: str | None = None  # a chat client's own system message, kept after ours
    retrieval: bool = True  # False for housekeeping requests (a chat UI asking for a title)
    reader: Reader | None = None  # who is asking, in `backstage` permission mode; None: everything is readable
