"""Ingest from a Backstage over HTTP: paging, TechDocs, incremental sync, and faults that change nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.knowledge import KnowledgeBase
from ingest.pipeline import run_ingest
from ingest.sources.backstage_catalog import BackstageCatalogSource
from ingest.sources.backstage_client import BackstageClient
from ingest.sources.backstage_techdocs import BackstageTechDocsSource
from tests.conftest import BIN, EXAMPLES, serve_in_thread
from tests.peers import backstage_server

TOKEN = "s3cret-token"


@pytest.fixture
def backstage(tmp_path: Path) -> Iterator[tuple[str, object]]:
    catalog = tmp_path / "catalog"
    shutil.copytree(EXAMPLES, catalog)
    app = backstage_server.create_app(catalog, token=TOKEN)
    with serve_in_thread(app) as url:
        yield url, app


def sources(url: str, token: str | None = TOKEN, **client: object) -> list:
    settings = {"timeout": 5.0, "retries": 2, "backoff": 0.01, "page_size": 7, **client}
    backstage_client = BackstageClient(url, token, **settings)  # type: ignore[arg-type]
    return [BackstageCatalogSource(backstage_client), BackstageTechDocsSource(backstage_client)]


def test_full_ingest_then_unchanged_then_edit_then_delete(kb: KnowledgeBase, backstage, tmp_path: Path):
    url, app = backstage
    first = run_ingest(kb, sources(url), tmp_path / "lock")
    assert first.ok, first.to_dict()
    catalog, techdocs = first.reports
    assert catalog.added >= 30 and techdocs.added >= 10
    assert kb.get(ids=["location:default/lumen-freight"]) == []  # Location entities are not ingested
    runbook = kb.get(where={"$and": [{"entity": "component:default/parcel-tracker"}, {"page": "runbook"}]})
    assert runbook and all("¶" not in hit.text for hit in runbook)
    assert {hit.metadata.get("anchor") for hit in runbook} >= {"database-failover"}
    assert run_ingest(kb, sources(url), tmp_path / "lock").to_dict()["chunks_embedded"] == 0

    entity = next(e for e in app.state.entities if e["metadata"]["name"] == "route-planner")
    entity["metadata"]["description"] = "Plans each courier's route every hour."
    edited = run_ingest(kb, sources(url), tmp_path / "lock").to_dict()
    assert (edited["updated"], edited["chunks_embedded"], edited["deleted"]) == (1, 1, 0)

    app.state.entities.remove(entity)
    removed = run_ingest(kb, sources(url), tmp_path / "lock").to_dict()
    assert removed["deleted"] == 1 and kb.get(ids=["component:default/route-planner"]) == []


def test_cursor_pages_carry_limit_but_not_the_filter(kb: KnowledgeBase, backstage, tmp_path: Path):
    url, app = backstage
    list(sources(url)[0].documents())
    pages = [r for r in app.state.requests if "by-query" in r]
    assert len(pages) == 5  # 31 entities, 7 a page
    assert all("limit=7" in page for page in pages)
    assert all("cursor=" in page for page in pages[1:])


def test_wrong_token_fails_clearly_and_changes_nothing(kb: KnowledgeBase, backstage, tmp_path: Path):
    url, _ = backstage
    assert run_ingest(kb, sources(url), tmp_path / "lock").ok
    before = kb.count()
    run = run_ingest(kb, sources(url, token="wrong-token"), tmp_path / "lock")
    assert not run.ok and "ASSISTANT_BACKSTAGE_TOKEN" in run.reports[0].errors[0]
    assert run.to_dict()["deleted"] == 0 and kb.count() == before


def test_server_error_on_page_3_of_5_after_retries_changes_nothing(kb: KnowledgeBase, backstage, tmp_path: Path):
    url, app = backstage
    assert run_ingest(kb, sources(url), tmp_path / "lock").ok
    before = kb.count()
    app.state.faults["status_on_page"] = {3: 500}
    app.state.requests.clear()
    run = run_ingest(kb, sources(url), tmp_path / "lock")
    assert not run.ok
    assert "answered 500" in run.reports[0].errors[0] and "after 2 retries" in run.reports[0].errors[0]
    assert run.to_dict()["deleted"] == 0 and kb.count() == before
    third_page_tries = [r for r in app.state.requests if "by-query" in r][2:]
    assert len(third_page_tries) >= 3  # one try and two retries


def test_slow_backstage_times_out_with_a_message(kb: KnowledgeBase, backstage, tmp_path: Path):
    url, app = backstage
    app.state.faults["slow_seconds"] = 1.5
    run = run_ingest(kb, sources(url, timeout=0.5, retries=1)[:1], tmp_path / "lock")
    assert not run.ok and "did not answer" in run.reports[0].errors[0] and "0.5 s" in run.reports[0].errors[0]


def test_malformed_json_is_a_clear_error(kb: KnowledgeBase, backstage, tmp_path: Path):
    url, app = backstage
    app.state.faults["malformed"] = True
    run = run_ingest(kb, sources(url)[:1], tmp_path / "lock")
    assert not run.ok and "invalid JSON" in run.reports[0].errors[0]


def test_unreachable_backstage_names_the_setting(kb: KnowledgeBase, tmp_path: Path):
    from tests.conftest import free_port

    run = run_ingest(kb, sources(f"http://127.0.0.1:{free_port()}", retries=0)[:1], tmp_path / "lock")
    assert not run.ok and "ASSISTANT_BACKSTAGE_URL" in run.reports[0].errors[0]


def test_cli_ingests_from_backstage_and_exits_nonzero_on_failure(backstage, tmp_path: Path):
    url, app = backstage
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        {
            "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
            "ASSISTANT_BACKSTAGE_URL": url,
            "ASSISTANT_BACKSTAGE_TOKEN": TOKEN,
            "ASSISTANT_BACKSTAGE_RETRIES": "1",
            "ASSISTANT_BACKSTAGE_PAGE_SIZE": "10",
        }
    )
    command = [str(BIN / "assistant"), "ingest", "--backstage", "--json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] > 40 and report["errors"] == []
    no_docs = subprocess.run([*command, "--no-techdocs"], env=env, capture_output=True, text=True, timeout=300)
    assert len(json.loads(no_docs.stdout)["sources"]) == 1
    app.state.faults["status_on_page"] = {2: 503}
    failed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["deleted"] == 0


def test_entities_without_published_docs_are_skipped_and_counted(kb: KnowledgeBase, backstage, tmp_path: Path):
    url, app = backstage
    del app.state.sites["default/system/billing"]
    run = run_ingest(kb, sources(url), tmp_path / "lock")
    assert run.ok
    techdocs = run.reports[1]
    assert techdocs.skipped == 1 and techdocs.added > 0
    assert kb.get(where={"$and": [{"entity": "system:default/billing"}, {"chunk": "techdocs"}]}) == []


def test_one_site_failing_keeps_its_pages_and_the_rest_syncs(kb: KnowledgeBase, backstage, tmp_path: Path):
    url, app = backstage
    assert run_ingest(kb, sources(url), tmp_path / "lock").ok
    billing = {"$and": [{"entity": "system:default/billing"}, {"chunk": "techdocs"}]}
    before = {hit.id: hit.text for hit in kb.get(where=billing)}
    app.state.faults["site_status"]["default/system/billing"] = 500
    tracker = app.state.sites["default/component/parcel-tracker"]["docs"]
    tracker.append({"location": "faq/", "title": "FAQ", "text": "Parcels are tracked every five minutes."})
    run = run_ingest(kb, sources(url), tmp_path / "lock")
    assert run.status == "partial"
    [failed] = run.to_dict()["failed_units"]
    assert failed["unit"] == "techdocs:system:default/billing" and "answered 500" in failed["message"]
    assert {hit.id: hit.text for hit in kb.get(where=billing)} == before
    assert kb.get(ids=["component:default/parcel-tracker#docs/faq/0"])
    assert run.reports[1].kept == len(before)
