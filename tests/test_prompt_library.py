"""The shipped templates (golden files), `assistant prompts`, hot reload and the stamp on every answer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from assistant.app import create_app
from assistant.prompt_templates import load_template
from assistant.prompts import PromptLibrary
from assistant.settings import PROJECT_ROOT
from tests.conftest import BIN, make_settings

PROMPTS = PROJECT_ROOT / "prompts"
GOLDEN = Path(__file__).parent / "golden" / "prompts"
QUESTIONS = {
    "catalog-qa": "Who owns the parcel-tracker component?",
    "techdocs-howto": "How do I run the parcel tracker locally?",
    "catalog-info-author": "Write a catalog-info.yaml for a Go service that sends delivery SMS for the tracking team.",
    "explain-api": "Explain the tracking-api.",
    "general": "What is a good name for a Kafka topic?",
}
SOURCES = [
    {
        "entity": "component:default/parcel-tracker",
        "title": "Parcel Tracker",
        "url": "https://backstage.example.com/catalog/default/component/parcel-tracker",
        "text": "Component (service): Parcel Tracker [component:default/parcel-tracker]\n"
        "Owner: group:default/tracking-team\nProvides APIs: api:default/tracking-api",
    },
    {
        "entity": "component:default/parcel-tracker",
        "page": "running-locally",
        "section": "Start the service",
        "title": "Parcel Tracker › Running locally",
        "url": "https://backstage.example.com/docs/default/component/parcel-tracker/running-locally/",
        "text": "Parcel Tracker docs › Running locally › Start the service\n./gradlew bootRun",
    },
    {
        "entity": "api:default/tracking-api",
        "title": "Tracking API",
        "url": "https://backstage.example.com/catalog/default/api/tracking-api",
        "text": "API (openapi): Tracking API [api:default/tracking-api]\nOwner: group:default/tracking-team",
        "definition": "openapi: 3.0.3\npaths:\n  /parcels/{parcelId}:\n    get: {summary: Current status}",
    },
]
CATALOG = {
    "groups": ["group:default/billing-team", "group:default/tracking-team"],
    "users": ["user:default/priya.raman"],
    "systems": ["system:default/parcel-tracking"],
    "domains": ["domain:default/delivery"],
}
FACTS = [
    "component:default/parcel-tracker (Parcel Tracker): owned by group:default/tracking-team; "
    "provides API api:default/tracking-api; is a dependency of component:default/route-planner"
]
HISTORY = [
    {"role": "user", "content": "What is the tracking system?"},
    {"role": "assistant", "content": "Parcel Tracking shows live parcel status [1]."},
]


def rendered(name: str) -> dict:
    library = PromptLibrary(PROMPTS)
    prompt = library.render(name, QUESTIONS[name], SOURCES, HISTORY, facts=FACTS, catalog=CATALOG)
    return {"messages": prompt.messages, "completion": prompt.completion}


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_shipped_template_matches_its_reviewed_golden_file(name: str):
    """Run with UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change, then review the diff."""
    golden = GOLDEN / f"{name}.json"
    actual = rendered(name)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    assert golden.is_file(), f"no golden file for {name}: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert actual == json.loads(golden.read_text())


def test_every_shipped_template_has_a_golden_file():
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(PromptLibrary(PROMPTS).names()) == set(QUESTIONS)


def test_templates_say_what_to_do_when_the_context_is_silent():
    for template in PromptLibrary(PROMPTS).templates():
        text = template.file.read_text().lower()
        assert "never invent" in text or "never make up" in text or "instead of guessing" in text, template.name


def test_author_template_offers_only_the_catalogs_real_owners():
    user = rendered("catalog-info-author")["messages"][-1]["content"]
    assert "Groups: group:default/billing-team, group:default/tracking-team" in user
    assert "Systems: system:default/parcel-tracking" in user


def test_explain_api_quotes_the_definition():
    user = rendered("explain-api")["messages"][-1]["content"]
    assert "/parcels/{parcelId}" in user


def prompts_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [str(BIN / "assistant"), "prompts", *args], env=env, capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_prompts_check_passes_on_the_shipped_templates():
    result = prompts_cli("check")
    assert result.returncode == 0, result.stderr
    assert "5 templates" in result.stdout


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.replace("---\nname:", "---\nname: [", 1), "front matter is not valid YAML"),
        (lambda t: t.replace("{{ question | data }}", "{{ user_question }}", 1), "unknown variable 'user_question'"),
        (lambda t: t.replace("{% endfor %}", "", 1), "template syntax error"),
        (lambda t: t.replace("version: 1\n", "", 1), "front matter needs 'version'"),
    ],
)
def test_prompts_check_fails_with_file_line_and_reason(tmp_path: Path, edit, reason: str):
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS, folder)
    target = folder / "techdocs-howto.md"
    target.write_text(edit(target.read_text()))
    result = prompts_cli("check", "--dir", str(folder))
    assert result.returncode == 1
    assert "techdocs-howto.md:" in result.stderr and reason in result.stderr


def test_prompts_check_fails_on_a_duplicate_name(tmp_path: Path):
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS, folder)
    shutil.copy(folder / "general.md", folder / "general-copy.md")
    result = prompts_cli("check", "--dir", str(folder))
    assert result.returncode == 1 and "name 'general' is already used by general" in result.stderr


def test_prompts_list_and_show():
    listing = prompts_cli("list")
    assert listing.returncode == 0
    assert "* catalog-qa" in listing.stdout and "explain-api" in listing.stdout
    shown = prompts_cli("show", "techdocs-howto")
    assert shown.returncode == 0 and '"version": "1"' in shown.stdout and "{% block system %}" in shown.stdout
    assert prompts_cli("show", "nope").returncode == 2


def test_library_reloads_edits_and_keeps_the_last_good_version(tmp_path: Path):
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS, folder)
    library = PromptLibrary(folder, reload_interval=0)
    file = folder / "general.md"
    file.write_text(file.read_text().replace("version: 1", "version: 2").replace("You are Assistant", "You are Ada"))
    _bump_mtime(file)
    assert library.get("general").version == "2"
    file.write_text(file.read_text().replace("{% endblock %}", "", 1))  # now broken
    _bump_mtime(file)
    assert library.get("general").version == "2"
    assert "You are Ada" in library.render("general", "hi").messages[0]["content"]
    assert any("general.md" in problem for problem in library.problems)


def _bump_mtime(file: Path) -> None:
    later = time.time() + 2
    os.utime(file, (later, later))


@pytest.mark.slow
async def test_running_app_picks_up_an_edited_template_and_stamps_answers(fixture_data_dir: Path, tmp_path: Path):
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS, folder)
    settings = make_settings(fixture_data_dir, prompts_dir=folder, llm_max_tokens=8)
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        body = {"question": "Who owns ollama?", "prompt": "catalog-qa", "stream": False}
        before = (await client.post("/api/chat", json=body)).json()["prompt"]
        file = folder / "catalog-qa.md"
        version = before["version"]
        edited = file.read_text().replace(f"version: {version}\n", f"version: {version}.1\n", 1)
        file.write_text(edited.replace("Be brief", "Be very brief"))
        _bump_mtime(file)
        time.sleep(1.1)  # the library looks at the folder at most once a second
        after = (await client.post("/api/chat", json=body)).json()["prompt"]
    assert before["name"] == after["name"] == "catalog-qa"
    assert (
        after["version"] == f"{before['version']}.1"
        and before["version"] == load_template(PROMPTS / "catalog-qa.md").version
    )
    assert before["hash"] != after["hash"]


@pytest.mark.slow
def test_ask_records_the_chosen_prompt_with_version_hash_and_commit(fixture_data_dir: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        {
            "ASSISTANT_DATA_DIR": str(fixture_data_dir),
            "ASSISTANT_COLLECTION": "assistant-test",
            "ASSISTANT_LLM_MAX_TOKENS": "16",
        }
    )
    result = subprocess.run(
        [
            str(BIN / "assistant"),
            "ask",
            "--prompt",
            "catalog-info-author",
            "--json",
            "A Python service that summarises Backchat chats, owned by the open-source group",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    stamp = json.loads(result.stdout)["prompt"]
    library = PromptLibrary(PROMPTS)
    template = library.get("catalog-info-author")
    assert stamp["name"] == "catalog-info-author"
    assert (stamp["version"], stamp["hash"]) == (template.version, template.content_hash)
    if library.commit:  # a git checkout
        assert stamp["commit"] == library.commit
