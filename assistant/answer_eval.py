"""Answer evaluation: the whole pipeline on the configured backend over an answer set (`must_mention`).

An answer passes when, for every group of alternatives, it contains at least one (case-insensitive). Every
`[n]` an answer kept must number one of its sources; the pipeline drops the others and counts them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answerer import Answerer, DoneEvent, Question
from assistant.errors import InvalidRequest
from assistant.evaluation import parse_history


@dataclass(frozen=True)
class AnswerItem:
    question: str
    must_mention: tuple[tuple[str, ...], ...]
    history: tuple[dict[str, str], ...] = ()


@dataclass
class AnswerReport:
    questions: int
    passed: int
    unknown_citations: int
    errors: int
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def share(self) -> float:
        return round(self.passed / self.questions, 4) if self.questions else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "passed": self.passed,
            "share": self.share,
            "unknown_citations": self.unknown_citations,
            "errors": self.errors,
            "misses": self.misses,
        }


def load_answer_set(file: Path) -> list[AnswerItem]:
    """Read a JSONL answer set; a malformed line is an error naming file and line."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InvalidRequest(f"{file}: cannot read the answer set ({error})") from None
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            groups = tuple(tuple(str(alt) for alt in group) for group in item["must_mention"])
            if not str(item["question"]).strip() or not groups or not all(groups):
                raise ValueError("needs a question and non-empty must_mention groups")
            items.append(AnswerItem(str(item["question"]), groups, parse_history(item.get("history") or [])))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidRequest(f"{file}:{number}: not an answer line ({error})") from None
    if not items:
        raise InvalidRequest(f"{file}: no questions")
    return items


def mentions(answer: str, groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """The groups the answer names none of."""
    text = answer.casefold()
    return [list(group) for group in groups if not any(alt.casefold() in text for alt in group)]


async def evaluate_answers(
    answerer: Answerer, items: Sequence[AnswerItem], prompt: str | None = None, backend: str | None = None
) -> AnswerReport:
    report = AnswerReport(questions=len(items), passed=0, unknown_citations=0, errors=0)
    try:
        await _evaluate_each(answerer, items, prompt, backend, report)
    finally:
        await answerer.backends.aclose()
    return report


async def _evaluate_each(
    answerer: Answerer, items: Sequence[AnswerItem], prompt: str | None, backend: str | None, report: AnswerReport
) -> None:
    for item in items:
        record: dict[str, Any] = {}
        async for event in answerer.answer(Question(item.question, item.history, prompt=prompt, backend=backend)):
            if isinstance(event, DoneEvent):
                record = event.record
        answer = str(record.get("answer") or "")
        unknown = list((record.get("citations") or {}).get("unknown") or [])
        report.unknown_citations += len(unknown)
        report.errors += 0 if record.get("complete") else 1
        missing = mentions(answer, item.must_mention)
        if not missing and record.get("complete"):
            report.passed += 1
        if missing or unknown or not record.get("complete"):  # an unknown citation misses the target too
            report.misses.append(
                {
                    "question": item.question,
                    "answer": answer,
                    "missing": missing,
                    "unknown_citations": unknown,
                    "error": record.get("error"),
                }
            )
