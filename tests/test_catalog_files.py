import re
from collections import Counter
from pathlib import Path

import pytest

from ingest.sources.base import SourceError
from ingest.sources.local_files import LocalFilesSource
from tests.conftest import BACKCHAT_FIXTURE, EXAMPLES


def _documents(path: Path) -> dict[str, object]:
    return {doc.id: doc for doc in LocalFilesSource(path).documents()}


def test_sample_catalog_has_every_kind_and_two_techdocs_sites() -> None:
    docs = _documents(EXAMPLES)
    entities = [d for d in docs.values() if d.metadata["chunk"] == "entity"]
    kinds = Counter(d.metadata["kind"] for d in entities)
    assert len(entities) >= 25
    assert set(kinds) >= {"component", "api", "system", "domain", "resource", "group", "user", "location"}
    sites = {d.metadata["entity"] for d in docs.values() if d.metadata["chunk"] == "techdocs"}
    assert sites == {"component:default/parcel-tracker", "system:default/billing"}


def test_entity_text_holds_what_people_ask_about() -> None:
    docs = _documents(BACKCHAT_FIXTURE)
    plugin = docs["component:default/backchat-plugin"]
    assert "Owner: user:default/ben.wilcock" in plugin.text
    assert "System: system:default/backchat" in plugin.text
    assert "component:default/ollama-web-ui" in plugin.text  # dependsOn
    assert plugin.metadata["owner"] == "user:default/ben.wilcock"
    assert plugin.metadata["tags"] == ["backchat"]
    localai = docs["component:default/localai"]
    assert "Provides APIs: api:default/openai-api" in localai.text
    user = docs["user:default/ben.wilcock"]
    assert "Member of: group:default/tanzu" in user.text


def test_url_techdocs_ref_uses_the_mkdocs_site_beside_the_catalog_file() -> None:
    docs = _documents(BACKCHAT_FIXTURE)
    pages = {d.metadata["page"] for d in docs.values() if d.metadata["chunk"] == "techdocs"}
    assert pages == {"index", "the-backchat-plugin", "start-ai-servers", "backstagecon-talk-notes-full"}
    roadmap = [d for d in docs.values() if d.metadata.get("section") == "Roadmap"]
    assert roadmap and roadmap[0].metadata["entity"] == "system:default/backchat"
    assert roadmap[0].metadata["anchor"] == "roadmap"


def test_text_substitution_reads_the_definition_from_the_repository() -> None:
    docs = _documents(BACKCHAT_FIXTURE)
    definition = [d for d in docs.values() if d.metadata["chunk"] == "definition"]
    assert definition, "the openai-api definition should be read from openai-api-spec/openapi.yaml"
    assert "openapi" in definition[0].text.lower()
    local = _documents(EXAMPLES)
    assert "/parcels/{parcelId}" in local["api:default/tracking-api#definition/0"].text


def test_location_targets_are_followed_from_a_single_file() -> None:
    docs = _documents(EXAMPLES / "catalog-info.yaml")
    assert "component:default/route-planner" in docs
    assert "component:default/parcel-tracker#docs/runbook/0" in docs


def test_ids_and_hashes_are_stable_across_reads() -> None:
    first = {k: d.content_hash for k, d in _documents(EXAMPLES).items()}
    second = {k: d.content_hash for k, d in _documents(EXAMPLES).items()}
    assert first == second


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ok\n"
        "spec:\n  owner: [unclosed\n  type: service\n"
    )
    source = LocalFilesSource(tmp_path)
    assert list(source.documents()) == []
    [problem] = source.problems.failed
    assert re.fullmatch(r"catalog-info\.yaml:\d+: malformed YAML: .+", str(problem))
    with pytest.raises(SourceError, match=r"catalog-info\.yaml:\d+: malformed YAML"):
        list(LocalFilesSource(tmp_path / "catalog-info.yaml").documents())  # the one file given: the whole source


def test_missing_location_target_fails_that_target_only(tmp_path: Path) -> None:
    (tmp_path / "all.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\n"
        "spec:\n  targets: [./missing.yaml, ./here.yaml]\n"
    )
    (tmp_path / "here.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: here\nspec:\n  owner: team-a\n"
    )
    source = LocalFilesSource(tmp_path / "all.yaml")
    docs = {doc.id for doc in source.documents()}
    assert "component:default/here" in docs
    [problem] = source.problems.failed
    assert problem.unit == "file:missing.yaml" and problem.file == "all.yaml" and problem.line == 1
    assert "missing.yaml does not exist" in problem.message


def test_other_yaml_in_a_folder_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("image: {{ .Values.image }}\n")  # a Helm template: not ours
    (tmp_path / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: solo\nspec:\n  owner: team-a\n"
    )
    assert list(_documents(tmp_path)) == ["component:default/solo"]


def test_mkdocs_folder_without_an_entity_is_refused(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Hello\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: orphan\n")
    with pytest.raises(SourceError, match="techdocs-ref"):
        list(LocalFilesSource(tmp_path).documents())


def test_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        list(LocalFilesSource(tmp_path / "nope").documents())
