"""Fitting a prompt into a backend's context window, in tokens.

The budget is the window minus the tokens reserved for the answer (`max_tokens`). What does not fit is left
out in this order: the oldest history turns, then the lowest-ranked sources, then the end of the last source
kept. The system prompt, the facts and the question are never cut: a prompt that cannot fit even without
history and sources is refused with a message saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from assistant.errors import LLMError, QuestionTooLong
from assistant.prompt_templates import ChatMessage
from assistant.prompts import RenderedPrompt

# A cut source shorter than this says too little to be worth its place: the source is dropped instead.
MIN_SOURCE_CHARS = 200
CUT_MARK = " […]"
CUT_STEP_CHARS = 8

Render = Callable[[Sequence[ChatMessage], Sequence[dict[str, Any]]], RenderedPrompt]
Count = Callable[[RenderedPrompt], int]


class ContextOverflow(LLMError, QuestionTooLong):
    """The system prompt and the question alone exceed the backend's window: a request too long (413) for
    this backend, reported like a backend failure once the answer stream has begun."""

    code = "context_overflow"
    status = 413


@dataclass(frozen=True)
class ContextReport:
    """What the final record says about the prompt's fit (dropped sources are the last of its `sources`)."""

    window_tokens: int
    budget_tokens: int
    used_tokens: int
    counted_with: str  # "tokenizer" (the model's own) or "estimate"
    history_dropped: int = 0  # messages, oldest first
    sources_dropped: int = 0  # the lowest-ranked ones
    source_cut_chars: int = 0  # characters cut from the end of the last source kept

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _first(candidates: Sequence[int], fits: Callable[[int], bool]) -> int | None:
    """The first candidate that fits, when fitting only gets easier along the sequence (binary search)."""
    low, high, found = 0, len(candidates) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if fits(candidates[middle]):
            found, high = candidates[middle], middle - 1
        else:
            low = middle + 1
    return found


def _length(source: dict[str, Any]) -> int:
    return len(str(source.get("text") or "")) + len(str(source.get("definition") or ""))


def cut_source(source: dict[str, Any], chars: int) -> dict[str, Any]:
    """The source with only its first `chars` characters of text (then of its definition) kept."""
    text = str(source.get("text") or "")
    definition = str(source.get("definition") or "")
    if chars >= len(text) + len(definition):
        return source
    if chars <= len(text):
        return {**source, "text": text[:chars].rstrip() + CUT_MARK, "definition": ""}
    return {**source, "definition": definition[: chars - len(text)].rstrip() + CUT_MARK}


def fit_prompt(
    render: Render,
    count: Count,
    history: Sequence[ChatMessage],
    sources: Sequence[dict[str, Any]],
    window: int,
    reserved: int,
    counted_with: str,
) -> tuple[RenderedPrompt, ContextReport]:
    """The fullest prompt within `window - reserved` tokens, and what was left out to get there."""
    budget = window - reserved
    tried: dict[tuple[int, int, int], tuple[RenderedPrompt, int]] = {}

    def attempt(history_from: int, kept: int, cut: int = -1) -> tuple[RenderedPrompt, int]:
        key = (history_from, kept, cut)
        if key not in tried:
            quoted = list(sources[:kept])
            if cut >= 0:
                quoted.append(cut_source(sources[kept], cut))
            prompt = render(history[history_from:], quoted)
            tried[key] = (prompt, count(prompt))
        return tried[key]

    def report(history_from: int, kept: int, cut: int = -1) -> tuple[RenderedPrompt, ContextReport]:
        prompt, used = attempt(history_from, kept, cut)
        return prompt, ContextReport(
            window_tokens=window,
            budget_tokens=budget,
            used_tokens=used,
            counted_with=counted_with,
            history_dropped=history_from,
            sources_dropped=len(sources) - kept - (cut >= 0),
            source_cut_chars=_length(sources[kept]) - cut if cut >= 0 else 0,
        )

    everything = len(sources)
    if attempt(0, everything)[1] <= budget:
        return report(0, everything)
    # Oldest turns first, cutting only before a user turn: chat templates expect the history to start with one.
    cuts = [n for n in range(1, len(history) + 1) if n == len(history) or history[n]["role"] == "user"]
    history_from = _first(cuts, lambda n: attempt(n, everything)[1] <= budget)
    if history_from is not None:
        return report(history_from, everything)
    history_from = len(history)
    # Then the lowest-ranked sources: the most sources that fit whole...
    kept = _first(list(range(everything - 1, -1, -1)), lambda n: attempt(history_from, n)[1] <= budget)
    if kept is None:
        raise ContextOverflow(
            f"the system prompt and the question need {attempt(history_from, 0)[1]} tokens, more than the "
            f"{budget} this backend's context window of {window} leaves after {reserved} for the answer; "
            "ask a shorter question, or use a backend with a larger context_size"
        )
    # ...and as much of the next one as fits, cut at its end.
    cut = _first(
        list(range(_length(sources[kept]) - 1, MIN_SOURCE_CHARS - 1, -CUT_STEP_CHARS)),
        lambda chars: attempt(history_from, kept, chars)[1] <= budget,
    )
    return report(history_from, kept, cut) if cut is not None else report(history_from, kept)
