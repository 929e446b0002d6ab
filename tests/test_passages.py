"""The sentence quoted before the model's text: the one of the first sources that answers the question."""

from __future__ import annotations

import pytest

from assistant.documents import Source
from assistant.embeddings import Embedder
from assistant.passages import quoted_passage, sentences

PAGE = """velero docs › index › Schedule
Velero backs up the cluster's state to object storage.
Its schedule is written in the
`Schedule` resource: the backup runs daily at 02:00 and
backups are kept for 14 days.

- Restores are started by hand with `velero restore create`.
"""


def page(text: str, entity: str = "component:default/velero") -> Source:
    return Source(entity=entity, title="Velero", url="", score=0.8, page="index", snippet=text)


def test_sentences_are_whole_across_wrapped_lines_and_without_the_trail():
    found = sentences(PAGE.split("\n", 1)[1])
    assert (
        "Its schedule is written in the `Schedule` resource: the backup runs daily at 02:00 and backups are "
        "kept for 14 days." in found
    )
    assert "Restores are started by hand with `velero restore create`." in found


def test_the_sentence_that_answers_is_quoted_with_its_source_number(embedder: Embedder):
    other = page("loki docs › index\nLoki keeps the cluster's logs for 30 days.\n", "component:default/loki")
    quoted = quoted_passage(embedder, "When does the Velero backup run?", [other, page(PAGE)])
    assert quoted.startswith("From [2]: ") and "daily at 02:00" in quoted
    assert "velero docs ›" not in quoted


def test_a_second_sentence_is_quoted_for_what_the_first_leaves_unanswered(embedder: Embedder):
    quoted = quoted_passage(embedder, "How is Velero restored, and when does its backup run?", [page(PAGE)])
    assert "02:00" in quoted and "velero restore create" in quoted


@pytest.mark.parametrize("question", ["", "what is it?"])
def test_nothing_is_quoted_when_the_question_asks_nothing_the_sources_say(embedder: Embedder, question: str):
    unrelated = page("billing docs › index\nInvoices are numbered per tenant and per year.\n")
    assert quoted_passage(embedder, question, [unrelated]) == ""
