"""One broken part of a catalog never blocks the rest: each file, Location target, entity and TechDocs site
fails on its own and keeps what it stored last time, while everything else syncs (real Chroma, real MiniLM).

The catalog is shaped like Backstage's own example catalog as teams copy it: an `org.yaml` whose Location
names group files, some of which are not in the copy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.knowledge import KnowledgeBase
from ingest.pipeline import IngestRun, run_ingest
from ingest.sources.local_files import LocalFilesSource
from tests.test_cli import assistant

COMPONENTS = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: artist-web
  description: Embeddable web widgets for artists
  annotations:
    backstage.io/techdocs-ref: dir:./artist-web-docs
spec:
  type: website
  lifecycle: production
  owner: team-a
  dependsOn: [resource:artists-db]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: playback-order
  description: Orders the playback queue
spec:
  type: service
  lifecycle: experimental
  owner: team-a
"""

ORG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: acme-corp
spec:
  type: organization
  children: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: example-groups
spec:
  targets:
    - ./team-a-group.yaml
    - ./team-b-group.yaml
"""

TEAM_A = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
  description: {description}
spec:
  type: team
  parent: acme-corp
  children: []
"""

NAMELESS = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: searcher
  description: Searches the archive
spec:
  type: service
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  description: A component someone forgot to name
spec:
  type: service
  owner: team-a
"""

TEMPLATE = """\
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: postgres-database
  title: PostgreSQL database
  description: Creates a managed PostgreSQL database for a service
  tags: [database]
spec:
  owner: team-a
  type: resource
  parameters:
    - title: Database details
      required: [name]
      properties:
        name:
          title: Database name
          description: Lower-case name of the new database
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
    - id: publish
      name: Open a pull request
      action: publish:github:pull-request
"""

CUSTOM_KIND = """\
apiVersion: example.com/v1
kind: Environment
metadata:
  name: production
  description: The production environment
spec:
  owner: team-a
  region: eu-west-1
  clusters: [prod-a, prod-b]
"""


def write_catalog(root: Path) -> None:
    (root / "components.yaml").write_text(COMPONENTS)
    (root / "org.yaml").write_text(ORG)
    (root / "team-a-group.yaml").write_text(TEAM_A.format(description="The artist experience team"))
    (root / "nameless.yaml").write_text(NAMELESS)
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "broken.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken\nspec: {owner: [team-a\n"
    )
    (root / "zz-copy.yaml").write_text(TEAM_A.format(description="A stale copy of team-a"))
    environments = root / "environments"
    environments.mkdir()
    (environments / "all.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: environments\n"
        "spec:\n  targets: [./production.yaml]\n"
    )
    (environments / "production.yaml").write_text(CUSTOM_KIND)
    site = root / "artist-web-docs"
    (site / "docs").mkdir(parents=True)
    (site / "mkdocs.yml").write_text("site_name: Artist web\nnav:\n  - Home: index.md\n")
    (site / "docs" / "index.md").write_text("# Artist web\n\nWidgets that artists embed in their own pages.\n")
    (site / "docs" / "release.md").write_text("# Releasing\n\nTag the main branch; the pipeline deploys it.\n")


def stored(kb: KnowledgeBase) -> dict[str, str]:
    return {doc_id: meta.get("content_hash", "") for doc_id, meta in kb.iter_metadata()}


def ingest(kb: KnowledgeBase, root: Path, strict: bool = False) -> IngestRun:
    return run_ingest(kb, [LocalFilesSource(root)], root.parent / "ingest.lock", strict=strict)


def units(run: IngestRun) -> dict[str, dict]:
    return {unit["unit"]: unit for unit in run.to_dict()["failed_units"]}


def warnings(run: IngestRun, kind: str) -> list[dict]:
    return [warning for warning in run.to_dict()["warnings"] if warning["kind"] == kind]


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    root.mkdir()
    write_catalog(root)
    return root


def test_broken_parts_fail_alone_and_keep_what_they_had(kb: KnowledgeBase, catalog: Path) -> None:
    # First run: every readable file is stored; each broken part is named with its file and line.
    first = ingest(kb, catalog)
    assert first.status == "partial"
    docs = stored(kb)
    for ref in (
        "component:default/artist-web",
        "component:default/playback-order",
        "component:default/searcher",
        "group:default/acme-corp",
        "group:default/team-a",
        "template:default/postgres-database",
        "environment:default/production",
    ):
        assert ref in docs, ref
    assert "component:default/broken" not in docs
    failed = units(first)
    assert failed["file:team-b-group.yaml"]["file"] == "org.yaml"
    assert "team-b-group.yaml does not exist" in failed["file:team-b-group.yaml"]["message"]
    assert failed["file:broken.yaml"]["line"] == 6 and "malformed YAML" in failed["file:broken.yaml"]["message"]
    nameless = failed["file:nameless.yaml#10"]
    assert nameless["line"] == 10 and "metadata.name" in nameless["message"]
    assert len(failed) == 3

    # Data problems are warnings: the first definition wins, dangling refs stay in the text.
    duplicate = warnings(first, "duplicate_ref")
    assert [(w["file"], w["line"]) for w in duplicate] == [("zz-copy.yaml", 1)]
    assert "team-a-group.yaml:1" in duplicate[0]["message"]
    assert "A stale copy" not in kb.get(ids=["group:default/team-a"])[0].text
    dangling = warnings(first, "dangling_ref")
    assert any("resource:default/artists-db" in w["message"] and w["file"] == "components.yaml" for w in dangling)
    assert "resource:default/artists-db" in kb.get(ids=["component:default/artist-web"])[0].text
    outside = warnings(first, "page_outside_nav")
    assert [w["message"] for w in outside] == ["page release.md is not in the nav; ingested anyway"]
    assert "component:default/artist-web#docs/release/0" in docs
    assert first.to_dict()["entities_by_kind"]["template"] == 1

    # Fix the broken file: it syncs, nothing else moves.
    (catalog / "broken.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken\nspec: {owner: team-a}\n"
    )
    second = ingest(kb, catalog)
    after_fix = stored(kb)
    assert "component:default/broken" in after_fix
    assert {k: v for k, v in after_fix.items() if k != "component:default/broken"} == docs
    assert "file:broken.yaml" not in units(second) and second.status == "partial"

    # Break a file that was fine, rename an entity in the partial file, change a good file, delete another.
    (catalog / "components.yaml").write_text(COMPONENTS.replace("  owner: team-a\n", "  owner: [team-a\n", 1))
    (catalog / "team-a-group.yaml").write_text(TEAM_A.format(description="Artists and their widgets"))
    (catalog / "template.yaml").unlink()
    third = ingest(kb, catalog)
    now = stored(kb)
    for kept in (
        "component:default/artist-web",
        "component:default/playback-order",
        "component:default/artist-web#docs/index/0",
        "component:default/artist-web#docs/release/0",
    ):
        assert now[kept] == after_fix[kept], f"{kept} should be kept exactly as it was"
    assert "Artists and their widgets" in kb.get(ids=["group:default/team-a"])[0].text
    assert "template:default/postgres-database" not in now
    assert "file:components.yaml" in units(third) and third.status == "partial"
    report = third.to_dict()
    assert report["kept"] == 4 and report["deleted"] == 1 and report["updated"] == 1


def test_strict_changes_nothing_and_fails(kb: KnowledgeBase, catalog: Path) -> None:
    run = ingest(kb, catalog, strict=True)
    assert run.status == "failed" and kb.count() == 0
    assert "--strict" in run.to_dict()["errors"][0]


def test_a_site_that_cannot_be_read_keeps_its_pages(kb: KnowledgeBase, catalog: Path) -> None:
    ingest(kb, catalog)
    before = stored(kb)
    (catalog / "artist-web-docs" / "mkdocs.yml").write_text("site_name: [unclosed\n")
    (catalog / "components.yaml").write_text(COMPONENTS.replace("Embeddable web widgets", "Web widgets"))
    run = ingest(kb, catalog)
    after = stored(kb)
    assert "techdocs:component:default/artist-web" in units(run)
    assert after["component:default/artist-web#docs/release/0"] == before["component:default/artist-web#docs/release/0"]
    assert after["component:default/artist-web"] != before["component:default/artist-web"]  # the entity updated


def test_template_is_ingested_with_its_form_and_steps(catalog: Path) -> None:
    docs = {doc.id: doc for doc in LocalFilesSource(catalog).documents()}
    template = docs["template:default/postgres-database"]
    assert "Owner: group:default/team-a" in template.text
    assert "Database name (Lower-case name of the new database)" in template.text
    assert "Open a pull request (publish:github:pull-request)" in template.text
    assert template.metadata["type"] == "resource"


def test_a_custom_kind_keeps_its_plain_fields(catalog: Path) -> None:
    docs = {doc.id: doc for doc in LocalFilesSource(catalog).documents()}
    environment = docs["environment:default/production"]
    assert "Owner: group:default/team-a" in environment.text
    assert "region: eu-west-1" in environment.text and "clusters: prod-a, prod-b" in environment.text
    assert "owner: team-a" not in environment.text  # shown once, as the relation


def test_a_template_links_to_its_scaffolder_page() -> None:
    from assistant.documents import EntityRef
    from assistant.links import entity_url

    url = entity_url("https://portal.example", EntityRef.parse("template:default/postgres-database"))
    assert url == "https://portal.example/create/templates/default/postgres-database"


def test_cli_exit_codes_name_the_missing_target(catalog: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    strict = assistant("ingest", "--source", str(catalog), "--strict", data_dir=data)
    assert strict.returncode == 1, strict.stderr
    first = assistant("ingest", "--source", str(catalog), "--json", data_dir=data)
    assert first.returncode == 4, first.stderr
    report = json.loads(first.stdout)
    assert report["status"] == "partial" and report["added"] > 0
    assert any("team-b-group.yaml does not exist" in unit["message"] for unit in report["failed_units"])
    second = assistant("ingest", "--source", str(catalog), data_dir=data)
    assert second.returncode == 4
    assert "added 0, updated 0, unchanged" in second.stdout and "deleted 0" in second.stdout
    assert "team-b-group.yaml does not exist" in second.stderr
    assert "warnings:" in second.stdout and "duplicate_ref" in second.stdout


def test_a_misspelt_relation_field_is_reported_and_the_entity_kept(kb: KnowledgeBase, tmp_path: Path) -> None:
    root = tmp_path / "typo"
    root.mkdir()
    (root / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\n"
        "spec:\n  type: website\n  owner: team-a\n  lifecycle: production\n  consumesApi: [orders-api]\n"
    )
    run = ingest(kb, root)
    misspelt = warnings(run, "misspelt_relation_field")
    assert [(w["file"], w["line"]) for w in misspelt] == [("catalog-info.yaml", 1)]
    assert "spec.consumesApi" in misspelt[0]["message"] and "consumesApis" in misspelt[0]["message"]
    assert kb.get(ids=["component:default/web"])  # a warning: the entity is stored all the same
    assert not [w for w in run.to_dict()["warnings"] if "lifecycle" in w["message"] or "spec.type" in w["message"]]
