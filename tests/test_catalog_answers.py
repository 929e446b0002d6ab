"""Catalog answers stated exactly before any model text, and citations checked against the sources."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from assistant.app import create_app
from assistant.catalog.answers import CatalogFact
from assistant.catalog_lead import lead_text
from assistant.documents import Source
from assistant.errors import PromptError
from assistant.prompt_templates import load_template
from assistant.settings import BackendConfig
from tests.conftest import BIN, REPO, SHARED, make_settings, peer_settings, serve_in_thread
from tests.peers import ollama_server, openai_server
from tests.test_api import parse_sse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    with serve_in_thread(ollama_server.app) as url:
        yield url


async def chat(data_dir: Path, model_url: str, question: str, **overrides: Any) -> list[tuple[str, dict]]:
    settings = peer_settings(data_dir, model_url, **overrides)
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        response = await client.post("/api/chat", json={"question": question})
        assert response.status_code == 200, response.text
        return parse_sse(response.text.splitlines())


async def test_the_catalog_answer_streams_first_naming_the_entity_and_citing_its_record(
    fixture_data_dir: Path, model_url: str
):
    events = await chat(fixture_data_dir, model_url, "Who owns the backchat-plugin component?")
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-1] == "done"
    first_token = next(data["text"] for name, data in events if name == "token")
    assert first_token.startswith("**component:default/backchat-plugin** is owned by [user:default/ben.wilcock](")
    record = events[-1][1]
    cited = record["sources"][record["citations"]["used"][0] - 1]
    assert cited["entity"] == "component:default/backchat-plugin" and cited["cited"]
    assert record["catalog_facts"] == [
        {
            "entity": "component:default/backchat-plugin",
            "field": "owner",
            "verb": "is owned by",
            "refs": ["user:default/ben.wilcock"],
        }
    ]
    assert "According to the catalog" in record["answer"]  # the model still adds its part after it


async def test_reverse_relations_are_answered_from_the_records_that_state_them(fixture_data_dir: Path, model_url: str):
    events = await chat(fixture_data_dir, model_url, "Which components provide the OpenAI API?")
    answer = events[-1][1]["answer"]
    assert answer.startswith("**api:default/openai-api** is provided by ")
    assert "component:default/localai" in answer and "component:default/text-generation-web-ui" in answer


async def test_when_the_catalog_has_no_answer_it_says_so(fixture_data_dir: Path, model_url: str):
    events = await chat(fixture_data_dir, model_url, "Who owns the open-source group?")
    assert events[-1][1]["answer"].startswith("The catalog names no owner for **group:default/open-source**")


async def test_catalog_answers_only_makes_no_model_call(fixture_data_dir: Path, model_url: str, tmp_path: Path):
    template = (
        (REPO / "prompts" / "catalog-qa.md").read_text().replace("catalog_answers: lead", "catalog_answers: only")
    )
    (tmp_path / "catalog-qa.md").write_text(template)
    before = len(ollama_server.CHATS)
    events = await chat(fixture_data_dir, model_url, "What does Ollama depend on?", prompts_dir=tmp_path)
    record = events[-1][1]
    assert record["answer"].startswith("**component:default/ollama** depends on [resource:default/mistral-7b](")
    assert len(ollama_server.CHATS) == before
    # a question the catalog graph cannot answer still goes to the model
    events = await chat(fixture_data_dir, model_url, "How do I start the AI servers?", prompts_dir=tmp_path)
    assert events[-1][1]["catalog_facts"] == [] and len(ollama_server.CHATS) == before + 1


async def test_a_base_model_adds_to_the_stated_answer_s_paragraph_and_stops_at_the_line(fixture_data_dir: Path):
    """A small base model after a stated list goes on listing, refs it makes up included; it may finish the
    catalog answer's paragraph, and the completion server is told to stop at the next line."""
    app = openai_server.create_app(chat=False)
    with serve_in_thread(app) as url:
        config = BackendConfig(name="default", type="openai", base_url=f"{url}/v1", model="echo", style="completion")
        how_to = "How do I configure the Backchat plugin in app-config?"
        for question in ("Who owns the backchat-plugin component?", how_to):
            settings = make_settings(fixture_data_dir, backends=[config])
            async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
                response = await client.post("/api/chat", json={"question": question})
                assert response.status_code == 200, response.text
    led, quoted = app.state.requests
    assert led["prompt"].rstrip().endswith(".") and "\n" in led["stop"]  # continues the catalog answer
    # a how-to the catalog graph does not answer continues the sentence quoted from its first sources
    assert "Answer: From [" in quoted["prompt"] and quoted["prompt"].rstrip().endswith('"')
    assert "\n" in quoted["stop"]


async def test_unknown_citations_are_removed_and_listed(fixture_data_dir: Path, model_url: str):
    events = await chat(
        fixture_data_dir, model_url, "How do I start the AI servers?", llm_model=ollama_server.CITING_MODEL
    )
    record = events[-1][1]
    shown = "".join(data["text"] for name, data in events if name == "token")
    assert shown == record["answer"] == "The docs say more [1] and. Done."
    assert record["citations"] == {"used": [1], "unknown": [42]}
    assert [source["cited"] for source in record["sources"]][:2] == [True, False]


async def test_compatible_apis_mark_the_cited_sources(fixture_data_dir: Path, model_url: str):
    settings = peer_settings(fixture_data_dir, model_url, llm_model=ollama_server.CITING_MODEL)
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        body = {
            "model": "backstage/catalog-qa",
            "messages": [{"role": "user", "content": "How do I start the AI servers?"}],
        }
        response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    content = response.json()["choices"][0]["message"]["content"]
    assert "\n1. [" in content and content.split("\n1. [", 1)[1].split("\n", 1)[0].endswith("· cited")
    assert "[42]" not in content


def test_long_lists_are_counted_and_linked_to_the_catalog():
    team = "group:default/platform"
    owned = [(f"component:default/service-{n}", f"component:default/service-{n}") for n in range(12)]
    fact = CatalogFact(team, "owns", tuple(r for r, _ in owned), tuple(owned), "owner", frozenset(r for r, _ in owned))
    sources = [Source(entity=team, title="Platform", url="u", score=1.0)]
    text = lead_text([fact], sources, "https://backstage.example.com")
    assert text.count("](https://backstage.example.com/catalog/default/component/service-") == 10
    assert "and 2 more" in text and "catalog?filters%5Bowners%5D=group%3Adefault%2Fplatform" in text


def test_an_unknown_catalog_answers_mode_is_a_clear_error(tmp_path: Path):
    template = (
        (REPO / "prompts" / "catalog-qa.md").read_text().replace("catalog_answers: lead", "catalog_answers: always")
    )
    file = tmp_path / "catalog-qa.md"
    file.write_text(template)
    with pytest.raises(PromptError, match=r"catalog-qa.md:\d+: catalog_answers must be one of lead, only, off"):
        load_template(file)


def test_answer_set_format_errors_name_the_line(tmp_path: Path):
    from assistant.answer_eval import load_answer_set
    from assistant.errors import InvalidRequest

    file = tmp_path / "answers.jsonl"
    file.write_text(json.dumps({"question": "Who owns X?", "must_mention": [["x"]]}) + '\n{"question": "y"}\n')
    with pytest.raises(InvalidRequest, match=r"answers\.jsonl:2"):
        load_answer_set(file)


def run_answer_eval(data_dir: Path, answers: Path, *args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_COLLECTION": "assistant-test", **env_overrides})
    command = [str(BIN / "assistant"), "eval", "--answers", str(answers), "--json", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


# The target of the answers issue, on the embedded default (Gemma 3 270M in-process): the build fails below it.
def test_the_dev_answer_set_meets_the_target_on_the_embedded_default(fixture_data_dir: Path):
    result = run_answer_eval(fixture_data_dir, SHARED / "eval" / "backchat-answers-dev.jsonl", "--min-share", "1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert (report["questions"], report["passed"], report["unknown_citations"]) == (8, 8, 0)


def test_answers_below_the_target_fail_and_list_the_misses(fixture_data_dir: Path, model_url: str, tmp_path: Path):
    answers = tmp_path / "answers.jsonl"
    lines = [
        {"question": "Who owns LocalAI?", "must_mention": [["nobody-at-all"]]},
        # mentions what it must, but the model cites a source the answer does not have
        {"question": "How do I start the AI servers?", "must_mention": [["docs"]]},
    ]
    answers.write_text("".join(json.dumps(line) + "\n" for line in lines))
    peer = {
        "ASSISTANT_LLM_TYPE": "ollama",
        "ASSISTANT_LLM_BASE_URL": model_url,
        "ASSISTANT_LLM_MODEL": ollama_server.CITING_MODEL,
    }
    result = run_answer_eval(fixture_data_dir, answers, "--min-share", "0.4", **peer)
    assert result.returncode == 1 and "below target" in result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] == 1 and report["unknown_citations"] == 2
    unmentioned, uncited = report["misses"]
    assert unmentioned["missing"] == [["nobody-at-all"]] and "group:default/open-source" in unmentioned["answer"]
    assert uncited["missing"] == [] and uncited["unknown_citations"] == [42]
