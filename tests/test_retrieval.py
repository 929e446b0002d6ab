"""Retrieval on real data no one here wrote: the Backchat demo's catalog and TechDocs."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.embeddings import Embedder
from assistant.knowledge import KnowledgeBase, open_chroma
from assistant.retrieval import Retriever

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(fixture_data_dir: Path, embedder: Embedder) -> Retriever:
    return Retriever(KnowledgeBase(open_chroma(fixture_data_dir, None), embedder, "assistant-test"))


def test_named_component_comes_first(retriever: Retriever):
    hits = retriever.retrieve("Who owns the backchat-plugin component?", k=5)
    assert hits[0].entity == "component:default/backchat-plugin"
    assert "named in the question" in hits[0].reason


def test_sources_are_distinct(retriever: Retriever):
    hits = retriever.retrieve("How do I start the AI servers for Backchat?", k=8)
    keys = [hit.source_key for hit in hits]
    assert len(keys) == len(set(keys))


def test_user_names_with_dots_are_matched(retriever: Retriever):
    hits = retriever.retrieve("What does ben.wilcock own?", k=5)
    assert hits[0].entity == "user:default/ben.wilcock"


def test_entity_scope_limits_sources(retriever: Retriever):
    hits = retriever.retrieve("How do I configure LocalAI?", k=5, entity="system:default/backchat")
    assert hits and {hit.entity for hit in hits} == {"system:default/backchat"}
