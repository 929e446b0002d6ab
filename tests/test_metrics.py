"""`GET /metrics` read with prometheus_client's own parser, after answers, a backend error, feedback and ingests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from assistant.app import create_app
from tests.conftest import BACKCHAT_FIXTURE, BIN, peer_settings, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": "Bearer admin-s3cret"}


async def scrape(client: AsyncTestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def ingest_in_another_process(data_dir: Path, source: Path) -> int:
    """What a scheduled job does: `assistant ingest` in its own process, against the same data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_COLLECTION": "assistant-test"})
    command = [str(BIN / "assistant"), "ingest", "--source", str(source)]
    return subprocess.run(command, env=env, capture_output=True, timeout=300).returncode


async def test_metrics_count_answers_errors_feedback_and_follow_the_knowledge_base(tmp_path: Path, model_dir: Path):
    (tmp_path / "models").symlink_to(model_dir / "models", target_is_directory=True)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "catalog-info.yaml").write_text("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: [\n")
    with serve_in_thread(ollama_server.app) as model_url:
        settings = peer_settings(tmp_path, model_url, sources=[BACKCHAT_FIXTURE], admin_token="admin-s3cret")
        async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
            before = await scrape(client)
            assert before[("assistant_knowledge_chunks", ())] == 0
            assert not any(name.startswith("assistant_ingest_") for name, _ in before)  # no ingest yet

            ingested = await client.post("/api/admin/ingest", headers=ADMIN)
            assert ingested.status_code == 200
            answer = await client.post("/api/chat", json={"question": "Who owns ollama?", "stream": False})
            failed = await client.post(
                "/api/chat", json={"question": "Who owns ollama?", "stream": False, "model": ollama_server.CUT_MODEL}
            )
            assert failed.json()["error"]["code"] == "backend_failed"
            rated = await client.post("/api/feedback", json={"answer_id": answer.json()["answer_id"], "rating": "up"})
            assert rated.status_code == 200

            after = await scrape(client)
            answers = {"backend": "default", "prompt": "catalog-qa"}
            assert after[("assistant_answers_total", tuple(sorted({**answers, "outcome": "ok"}.items())))] == 1
            assert after[("assistant_answers_total", tuple(sorted({**answers, "outcome": "error"}.items())))] == 1
            code = (("backend", "default"), ("code", "backend_failed"))
            assert after[("assistant_backend_errors_total", code)] == 1
            assert after[("assistant_feedback_total", (("prompt", "catalog-qa"), ("rating", "up")))] == 1
            assert after[("assistant_retrieval_seconds_count", ())] == 2
            assert after[("assistant_first_token_seconds_count", (("backend", "default"),))] == 2
            assert after[("assistant_answer_seconds_count", (("backend", "default"),))] == 1  # errors are not timed
            chunks = after[("assistant_knowledge_chunks", ())]
            assert chunks == ingested.json()["added"] > 50
            assert after[("assistant_ingest_last_failed_units", ())] == 0
            succeeded = after[("assistant_ingest_last_success_timestamp_seconds", ())]
            assert succeeded > 1.7e9
            requests = {k: v for k, v in after.items() if k[0] == "assistant_http_requests_total"}
            assert any(
                ("path", "/api/feedback") in labels and ("status_code", "200") in labels for _, labels in requests
            )

            # A scheduled ingest in another process fails (the one file it reads is malformed): the service
            # sees it at the next scrape, and the last success stays when it was.
            assert ingest_in_another_process(tmp_path, broken / "catalog-info.yaml") == 1  # the one file: unreadable
            later = await scrape(client)
            assert later[("assistant_ingest_last_failed_units", ())] == 1
            assert later[("assistant_ingest_last_success_timestamp_seconds", ())] == succeeded
            assert later[("assistant_knowledge_chunks", ())] == chunks
