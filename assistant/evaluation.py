"""Retrieval evaluation: recall@k and MRR of the retriever over a question set (no LLM involved).

A question counts as found at rank r when the r-th distinct source matches one of its expected sources:
the same entity, and the same TechDocs page where the expectation names one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.documents import Hit
from assistant.errors import InvalidRequest


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    expected: tuple[tuple[str, str | None], ...]  # (entity, page or None)
    history: tuple[dict[str, str], ...] = ()  # earlier turns of the chat, oldest first


# (question, k, history) -> ranked sources, as the answer pipeline retrieves them
Retrieve = Callable[[str, int, Sequence[dict[str, str]]], list[Hit]]


@dataclass
class EvalReport:
    questions: int
    k: int
    recall_at_k: float
    mrr: float
    recall_at_1: float
    misses: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "k": self.k,
            "recall_at_k": self.recall_at_k,
            "mrr": self.mrr,
            "recall_at_1": self.recall_at_1,
            "misses": self.misses,
        }


def load_questions(file: Path) -> list[EvalQuestion]:
    """Read a JSONL question set; a malformed line is an error naming file and line."""
    questions = []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InvalidRequest(f"{file}: cannot read the question set ({error})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            expected = tuple((str(e["entity"]), str(e["page"]) if e.get("page") else None) for e in item["expected"])
            if not str(item["question"]).strip() or not expected:
                raise ValueError("needs a question and at least one expected source")
            history = parse_history(item.get("history") or [])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidRequest(f"{file}:{number}: not a question line ({error})") from None
        questions.append(EvalQuestion(str(item["question"]), expected, history))
    if not questions:
        raise InvalidRequest(f"{file}: no questions")
    return questions


def parse_history(turns: list[Any]) -> tuple[dict[str, str], ...]:
    if not isinstance(turns, list):
        raise ValueError("history must be a list of turns")
    history = []
    for turn in turns:
        if turn.get("role") not in ("user", "assistant") or not isinstance(turn.get("content"), str):
            raise ValueError("each history turn needs role 'user' or 'assistant' and a content string")
        history.append({"role": turn["role"], "content": turn["content"]})
    return tuple(history)


def matches(hit: Hit, expected: Sequence[tuple[str, str | None]]) -> bool:
    """Entity refs compare without case, as Backstage compares them (`api:tsg/sessionData` is `api:tsg/sessiondata`)."""
    entity_ref = hit.entity.casefold()
    return any(entity_ref == entity.casefold() and (page is None or hit.page == page) for entity, page in expected)


def evaluate(retrieve: Retrieve, questions: Sequence[EvalQuestion], k: int) -> EvalReport:
    found_at: list[int | None] = []
    misses = []
    for item in questions:
        hits = retrieve(item.question, k, item.history)[:k]
        rank = next((n for n, hit in enumerate(hits, 1) if matches(hit, item.expected)), None)
        found_at.append(rank)
        if rank is None:
            misses.append(
                {
                    "question": item.question,
                    **({"history": list(item.history)} if item.history else {}),
                    "expected": [{"entity": e, **({"page": p} if p else {})} for e, p in item.expected],
                    "got": [
                        {
                            "entity": h.entity,
                            **({"page": h.page} if h.page else {}),
                            "score": round(h.score, 4),
                            "reason": h.reason,
                        }
                        for h in hits
                    ],
                }
            )
    total = len(questions)
    return EvalReport(
        questions=total,
        k=k,
        recall_at_k=round(sum(r is not None for r in found_at) / total, 4),
        mrr=round(sum(1 / r for r in found_at if r is not None) / total, 4),
        recall_at_1=round(sum(r == 1 for r in found_at) / total, 4),
        misses=misses,
    )
