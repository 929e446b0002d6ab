"""Ingest against a real Backstage backend (catalog + TechDocs plugins) started on 127.0.0.1.

The harness lives in tests/backstage (its own package.json and lockfile); `make test` installs it with
`npm ci` and puts `mkdocs-techdocs-core` on the PATH for TechDocs builds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from assistant.knowledge import KnowledgeBase
from ingest.pipeline import run_ingest
from ingest.sources.backstage_catalog import BackstageCatalogSource
from ingest.sources.backstage_client import BackstageClient
from ingest.sources.backstage_techdocs import BackstageTechDocsSource
from tests.conftest import EXAMPLES, free_port, stop_process

pytestmark = pytest.mark.slow
HARNESS = Path(__file__).parent / "backstage"
TOKEN = "backchat-assistant-test-token"
MKDOCS_BIN = Path(os.environ.get("ASSISTANT_TEST_MKDOCS_BIN", HARNESS / ".mkdocs" / "bin"))


class RealBackstage:
    def __init__(self, url: str, catalog: Path) -> None:
        self.url = url
        self.catalog = catalog
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)

    def entity(self, kind: str, name: str) -> dict | None:
        response = self.http.get(f"/api/catalog/entities/by-name/{kind}/default/{name}")
        return response.json() if response.status_code == 200 else None

    def wait_until(self, condition, what: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(1)
        raise TimeoutError(f"Backstage did not {what} within {seconds:g} s")

    def build_techdocs(self, kind: str, name: str) -> None:
        """The sync endpoint answers 200 and streams events even when the build fails: read them."""
        with self.http.stream(
            "GET", f"/api/techdocs/sync/default/{kind}/{name}", headers={"Accept": "text/event-stream"}, timeout=300
        ) as response:
            events = "".join(response.iter_text())
        assert "event: finish" in events, f"TechDocs build of {kind}/{name} failed: {events[-2000:]}"


@pytest.fixture(scope="module")
def backstage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealBackstage]:
    assert (HARNESS / "node_modules").is_dir(), "run `npm ci` in tests/backstage (make test does)"
    assert (MKDOCS_BIN / "mkdocs").exists(), f"mkdocs-techdocs-core is needed in {MKDOCS_BIN} (make test does it)"
    root = tmp_path_factory.mktemp("backstage")
    catalog = root / "catalog"
    shutil.copytree(EXAMPLES, catalog)
    port = free_port()
    config = {
        "app": {"baseUrl": "http://localhost:3000"},
        "backend": {
            "baseUrl": f"http://127.0.0.1:{port}",
            "listen": {"host": "127.0.0.1", "port": port},
            "database": {"client": "better-sqlite3", "connection": ":memory:"},
            "auth": {"externalAccess": [{"type": "static", "options": {"token": TOKEN, "subject": "assistant-tests"}}]},
        },
        "catalog": {
            "rules": [{"allow": ["Component", "API", "Resource", "System", "Domain", "Location", "Group", "User"]}],
            "locations": [{"type": "file", "target": str(catalog / "catalog-info.yaml")}],
            "processingInterval": {"seconds": 3},
            "orphanStrategy": "delete",
        },
        "techdocs": {
            "builder": "local",
            "generator": {"runIn": "local"},
            "publisher": {"type": "local", "local": {"publishDirectory": str(root / "published")}},
        },
    }
    config_file = root / "app-config.yaml"
    config_file.write_text(yaml.safe_dump(config))
    env = {**os.environ, "PATH": f"{MKDOCS_BIN}:{os.environ['PATH']}", "NODE_ENV": "development"}
    log = (root / "backstage.log").open("wb")
    process = subprocess.Popen(
        ["node", "index.js", "--config", str(config_file)], cwd=HARNESS, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    instance = RealBackstage(f"http://127.0.0.1:{port}", catalog)
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"Backstage exited: {(root / 'backstage.log').read_text()[-3000:]}")
            try:
                items = instance.http.get("/api/catalog/entities/by-query", params={"limit": 100}).json()["items"]
            except (httpx.HTTPError, ValueError, KeyError):
                return False
            return len(items) >= 31

        instance.wait_until(ready, "serve the sample catalog", 180)
        instance.build_techdocs("component", "parcel-tracker")
        instance.build_techdocs("system", "billing")
        yield instance
    finally:
        stop_process(process, grace=20)
        log.close()
        print((root / "backstage.log").read_text()[-3000:], file=sys.stderr)


def sources(url: str, token: str = TOKEN) -> list:
    client = BackstageClient(url, token, timeout=30, retries=1, backoff=0.1, page_size=10)
    return [BackstageCatalogSource(client), BackstageTechDocsSource(client)]


def test_real_backstage_full_then_unchanged_then_edit_then_delete(kb: KnowledgeBase, backstage, tmp_path: Path):
    first = run_ingest(kb, sources(backstage.url), tmp_path / "lock")
    assert first.ok, first.to_dict()
    catalog, techdocs = first.reports
    assert catalog.added >= 30
    assert techdocs.added >= 8, "the TechDocs of parcel-tracker and billing"
    assert kb.get(where={"page": "runbook"})
    again = run_ingest(kb, sources(backstage.url), tmp_path / "lock").to_dict()
    assert again["chunks_embedded"] == 0 and again["deleted"] == 0

    file = backstage.catalog / "services" / "route-planner" / "catalog-info.yaml"
    file.write_text(file.read_text().replace("every morning", "every hour"))
    backstage.wait_until(
        lambda: (
            "every hour"
            in (backstage.entity("component", "route-planner") or {}).get("metadata", {}).get("description", "")
        ),
        "pick up the edit",
    )
    edited = run_ingest(kb, sources(backstage.url), tmp_path / "lock").to_dict()
    assert (edited["updated"], edited["chunks_embedded"], edited["deleted"]) == (1, 1, 0), edited

    frontends = backstage.catalog / "services" / "web-frontends.yaml"
    text = frontends.read_text()
    frontends.write_text(
        text[
            : text.index("---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: developer-portal")
        ]
    )
    backstage.wait_until(lambda: backstage.entity("component", "developer-portal") is None, "delete the entity")
    removed = run_ingest(kb, sources(backstage.url), tmp_path / "lock").to_dict()
    assert removed["deleted"] == 1 and kb.get(ids=["component:default/developer-portal"]) == []


def test_real_backstage_wrong_token_fails_clearly_and_changes_nothing(kb: KnowledgeBase, backstage, tmp_path: Path):
    assert run_ingest(kb, sources(backstage.url), tmp_path / "lock").ok
    before = kb.count()
    run = run_ingest(kb, sources(backstage.url, token="not-the-token"), tmp_path / "lock")
    assert not run.ok and "ASSISTANT_BACKSTAGE_TOKEN" in run.reports[0].errors[0]
    assert run.to_dict()["deleted"] == 0 and kb.count() == before
    assert json.dumps(run.to_dict())
