"""Incremental sync against a real embedded Chroma with the real MiniLM embedder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.documents import Document
from assistant.knowledge import KnowledgeBase
from ingest.pipeline import IngestBusy, run_ingest
from ingest.sources.base import SourceError
from ingest.sources.local_files import LocalFilesSource
from tests.conftest import EXAMPLES


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    copy = tmp_path / "catalog"
    shutil.copytree(EXAMPLES, copy)
    return copy


def ingest(kb: KnowledgeBase, path: Path, lock: Path) -> dict:
    run = run_ingest(kb, [LocalFilesSource(path)], lock)
    return run.to_dict()


def test_first_ingest_adds_everything_and_rerun_embeds_nothing(kb: KnowledgeBase, catalog: Path, tmp_path: Path):
    first = ingest(kb, catalog, tmp_path / "lock")
    assert first["added"] == first["chunks_embedded"] == kb.count() > 40
    assert first["errors"] == []
    second = ingest(kb, catalog, tmp_path / "lock")
    assert second["chunks_embedded"] == 0
    assert second["unchanged"] == first["added"]
    assert (second["added"], second["updated"], second["deleted"]) == (0, 0, 0)


def test_editing_one_entity_reembeds_only_that_entity(kb: KnowledgeBase, catalog: Path, tmp_path: Path):
    ingest(kb, catalog, tmp_path / "lock")
    file = catalog / "services" / "route-planner" / "catalog-info.yaml"
    file.write_text(file.read_text().replace("every morning", "every hour"))
    report = ingest(kb, catalog, tmp_path / "lock")
    assert (report["updated"], report["chunks_embedded"], report["added"], report["deleted"]) == (1, 1, 0, 0)
    [hit] = kb.get(ids=["component:default/route-planner"])
    assert "every hour" in hit.text


def test_removed_entity_and_page_are_deleted(kb: KnowledgeBase, catalog: Path, tmp_path: Path):
    ingest(kb, catalog, tmp_path / "lock")
    (catalog / "services" / "parcel-tracker" / "docs" / "runbook.md").unlink()
    file = catalog / "services" / "web-frontends.yaml"
    text = file.read_text()
    file.write_text(
        text[
            : text.index("---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: developer-portal")
        ]
    )
    report = ingest(kb, catalog, tmp_path / "lock")
    assert report["deleted"] == 3  # the entity, and the runbook's two sections
    assert kb.get(ids=["component:default/developer-portal"]) == []
    assert kb.get(where={"page": "runbook"}) == []


def test_malformed_file_fails_the_source_and_keeps_the_index(kb: KnowledgeBase, catalog: Path, tmp_path: Path):
    ingest(kb, catalog, tmp_path / "lock")
    before = kb.count()
    (catalog / "org.yaml").write_text("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: [broken\n")
    run = run_ingest(kb, [LocalFilesSource(catalog)], tmp_path / "lock")
    assert not run.ok
    report = run.to_dict()
    assert report["deleted"] == 0 and report["chunks_embedded"] == 0
    assert "org.yaml" in report["errors"][0] and "malformed YAML" in report["errors"][0]
    assert kb.count() == before


class FailsMidway:
    """A source that yields some documents, then breaks (like a network error on page 3)."""

    name = "flaky"

    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def documents(self) -> Iterator[Document]:
        for n in range(5):
            if self.fail and n == 3:
                raise SourceError("connection reset while reading page 3")
            yield Document(id=f"doc-{n}", text=f"document number {n}", metadata={"entity": f"component:default/d{n}"})


def test_source_failing_midway_changes_nothing(kb: KnowledgeBase, tmp_path: Path):
    assert run_ingest(kb, [FailsMidway(fail=False)], tmp_path / "lock").ok
    run = run_ingest(kb, [FailsMidway(fail=True)], tmp_path / "lock")
    assert not run.ok and run.reports[0].failed
    assert sorted(h.id for h in kb.get(where={"source": "flaky"})) == [f"doc-{n}" for n in range(5)]


def test_second_ingest_at_once_is_refused_clearly(kb: KnowledgeBase, tmp_path: Path):
    from filelock import FileLock

    with FileLock(str(tmp_path / "lock")), pytest.raises(IngestBusy, match="another ingest is running"):
        run_ingest(kb, [FailsMidway(fail=False)], tmp_path / "lock")


def test_search_returns_cosine_scores_best_first(kb: KnowledgeBase, catalog: Path, tmp_path: Path):
    ingest(kb, catalog, tmp_path / "lock")
    hits = kb.search("monthly invoices for business customers", k=3)
    assert hits[0].entity in {"component:default/invoice-service", "system:default/billing"}
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert 0 < hits[0].score <= 1


def test_changing_the_embedding_model_reembeds(kb: KnowledgeBase, tmp_path: Path):
    run_ingest(kb, [FailsMidway(fail=False)], tmp_path / "lock")
    kb.embedder.name = "all-MiniLM-L6-v2 (renamed)"
    try:
        report = run_ingest(kb, [FailsMidway(fail=False)], tmp_path / "lock").reports[0]
    finally:
        kb.embedder.name = "all-MiniLM-L6-v2"
    assert report.updated == report.chunks_embedded == 5


def test_an_entity_two_sources_define_holds_the_latest_text(kb: KnowledgeBase, tmp_path: Path):
    """Ids are entity refs: a second source's "new" entity may already be stored by the first."""

    def entity(text: str) -> Document:
        return Document(id="component:default/shared", text=text, metadata={"entity": "component:default/shared"})

    kb.sync("first", [entity("Shared written by the first source.")])
    report = kb.sync("second", [entity("Shared written by the second source.")])
    assert report.added == 1 and report.errors == []
    [hit] = kb.get(ids=["component:default/shared"])
    assert hit.text == "Shared written by the second source."
