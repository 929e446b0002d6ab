"""Ratings of answers through `POST /api/feedback`, kept in SQLite with the answer, read back with the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from assistant.app import create_app
from tests.conftest import BIN, peer_settings, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    with serve_in_thread(ollama_server.app) as url:
        yield url


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shared' / 'feedback.db'}"


def feedback_cli(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_FEEDBACK_DATABASE_URL": database_url})
    return subprocess.run(
        [str(BIN / "assistant"), "feedback", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def ask(client: AsyncTestClient, question: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/chat", json={"question": question, "stream": False, **fields})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_rating_given_on_another_replica_keeps_the_answer_as_given(
    fixture_data_dir: Path, model_url: str, database_url: str, tmp_path: Path
):
    # Two replicas sharing one database: the answer comes from one, the rating goes to the other.
    settings = peer_settings(fixture_data_dir, model_url, feedback_database_url=database_url)
    async with (
        AsyncTestClient(create_app(settings, chat_page=False)) as first,
        AsyncTestClient(create_app(settings, chat_page=False)) as second,
    ):
        record = await ask(first, "What does the ollama component depend on?", entity="component:default/ollama")
        assert len(record["answer_id"]) == 32
        rated = await second.post(
            "/api/feedback", json={"answer_id": record["answer_id"], "rating": "down", "comment": "  misses mistral "}
        )
        assert rated.status_code == 200, rated.text
        assert rated.json() == {
            "answer_id": record["answer_id"],
            "rating": "down",
            "prompt": "catalog-qa",
            "version": record["prompt"]["version"],
        }

    exported = feedback_cli("export", "--json", database_url=database_url, data_dir=tmp_path)
    assert exported.returncode == 0, exported.stderr
    [entry] = json.loads(exported.stdout)
    assert entry["rating"] == "down" and entry["comment"] == "misses mistral"
    for key in ("answer_id", "question", "answer", "sources", "prompt", "backend", "model", "entity_scope"):
        assert entry[key] == record[key], key
    assert entry["entity_scope"] == "component:default/ollama" and entry["sources"]
    assert entry["rated_at"].endswith("Z") and entry["answered_at"] <= entry["rated_at"]


async def test_bad_feedback_gets_a_clear_error_and_changes_nothing(
    fixture_data_dir: Path, model_url: str, database_url: str, tmp_path: Path
):
    settings = peer_settings(
        fixture_data_dir, model_url, feedback_database_url=database_url, feedback_max_comment_chars=50
    )
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        record = await ask(client, "Who owns the backchat-plugin component?")
        unknown = await client.post("/api/feedback", json={"answer_id": "f" * 32, "rating": "up"})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
        for body, message in (
            ({"answer_id": record["answer_id"], "rating": "meh"}, "'rating': Invalid enum value 'meh'"),
            ({"answer_id": record["answer_id"], "rating": "up", "comment": "x" * 51}, "FEEDBACK_MAX_COMMENT_CHARS"),
        ):
            refused = await client.post("/api/feedback", json=body)
            assert refused.status_code == 422 and message in refused.json()["error"]["message"], refused.text
        missing = await client.post("/api/feedback", json={"rating": "up"})
        assert missing.status_code == 422 and missing.json()["error"]["field"] == "answer_id"
    listed = feedback_cli("list", "--json", database_url=database_url, data_dir=tmp_path)
    assert listed.returncode == 0 and json.loads(listed.stdout) == {"feedback": []}


async def test_stats_judge_each_prompt_version_by_its_users(
    fixture_data_dir: Path, model_url: str, database_url: str, tmp_path: Path
):
    settings = peer_settings(fixture_data_dir, model_url, feedback_database_url=database_url)
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        ratings = [("catalog-qa", "up"), ("catalog-qa", "up"), ("catalog-qa", "down"), ("general", "down")]
        records = [await ask(client, "Who owns the ollama component?", prompt=prompt) for prompt, _ in ratings]
        for record, (_, rating) in zip(records, ratings, strict=True):
            response = await client.post("/api/feedback", json={"answer_id": record["answer_id"], "rating": rating})
            assert response.status_code == 200
        # Rating again replaces the rating and keeps the comment given before.
        await client.post(
            "/api/feedback", json={"answer_id": records[3]["answer_id"], "rating": "down", "comment": "vague"}
        )
        await client.post("/api/feedback", json={"answer_id": records[3]["answer_id"], "rating": "up"})

    stats = feedback_cli("stats", "--json", database_url=database_url, data_dir=tmp_path)
    assert stats.returncode == 0, stats.stderr
    rows = {(row["prompt"], row["version"]): row for row in json.loads(stats.stdout)["prompts"]}
    qa = rows[("catalog-qa", records[0]["prompt"]["version"])]
    general = rows[("general", records[3]["prompt"]["version"])]
    assert (qa["up"], qa["down"], qa["up_share"]) == (2, 1, 0.667)
    assert (general["up"], general["down"], general["up_share"]) == (1, 0, 1.0)
    table = feedback_cli("stats", database_url=database_url, data_dir=tmp_path).stdout
    assert "catalog-qa" in table and "67%" in table
    listed = feedback_cli("list", "--rating", "up", database_url=database_url, data_dir=tmp_path).stdout
    assert listed.count("up ") == 3 and "vague" in listed
    lines = feedback_cli("export", database_url=database_url, data_dir=tmp_path).stdout.splitlines()
    assert len(lines) == 4 and {json.loads(line)["answer_id"] for line in lines} == {r["answer_id"] for r in records}


def test_a_wrong_database_url_stops_the_service_at_start_naming_the_setting(fixture_data_dir: Path, model_url: str):
    from assistant.errors import ConfigError

    for url, reason in (("not a url", "not a database URL"), ("postgresql+psycopg://db/assistant", "no driver")):
        settings = peer_settings(fixture_data_dir, model_url, feedback_database_url=url)
        with pytest.raises(ConfigError) as raised:
            create_app(settings, chat_page=False)
        assert "ASSISTANT_FEEDBACK_DATABASE_URL" in raised.value.message and reason in raised.value.message


async def test_answers_go_out_while_the_feedback_database_fails(fixture_data_dir: Path, model_url: str, tmp_path: Path):
    database = tmp_path / "feedback.db"
    settings = peer_settings(fixture_data_dir, model_url, feedback_database_url=f"sqlite:///{database}")
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        with sqlite3.connect(database) as connection:  # the database loses its tables under the service
            connection.executescript("DROP TABLE feedback; DROP TABLE answers;")
        record = await ask(client, "Who owns the ollama component?")
        assert record["complete"] and record["answer"]
        refused = await client.post("/api/feedback", json={"answer_id": record["answer_id"], "rating": "up"})
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "feedback_unavailable"
        assert "feedback database" in refused.json()["error"]["message"]


async def test_answers_nobody_rated_are_deleted_after_the_kept_days_rated_ones_stay(
    fixture_data_dir: Path, model_url: str, database_url: str, tmp_path: Path
):
    settings = peer_settings(fixture_data_dir, model_url, feedback_database_url=database_url)
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        rated, unrated, recent = [await ask(client, "Who owns the ollama component?") for _ in range(3)]
        await client.post("/api/feedback", json={"answer_id": rated["answer_id"], "rating": "up"})
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:  # forty days pass for two
        old = (rated["answer_id"], unrated["answer_id"])
        connection.execute(
            "UPDATE answers SET answered_at = datetime('now', '-40 days') WHERE answer_id IN (?, ?)", old
        )
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:  # a (re)start prunes
        for record, status in ((rated, 200), (unrated, 404), (recent, 200)):
            response = await client.post("/api/feedback", json={"answer_id": record["answer_id"], "rating": "down"})
            assert response.status_code == status, record
