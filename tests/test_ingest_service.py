"""Ingest as an operated job: the admin trigger, /api/status, and `--every` scheduling."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from filelock import FileLock
from litestar.testing import AsyncTestClient

from assistant.app import create_app
from ingest.runner import parse_every
from tests.conftest import BIN, EXAMPLES, make_settings


def test_durations():
    assert parse_every("30m") == 1800 and parse_every("1h") == 3600 and parse_every("2h30m") == 9000
    for bad in ("soon", "5s", "30x", "30m later"):
        with pytest.raises(ValueError):
            parse_every(bad)


async def test_admin_ingest_needs_its_token_and_reports_to_status(tmp_path: Path, model_dir: Path):
    (tmp_path / "models").symlink_to(model_dir / "models", target_is_directory=True)
    disabled = make_settings(tmp_path, sources=[EXAMPLES])
    async with AsyncTestClient(create_app(disabled, chat_page=False)) as client:
        refused = await client.post("/api/admin/ingest")
        assert refused.status_code == 403 and "ASSISTANT_ADMIN_TOKEN" in refused.json()["error"]["message"]
    settings = make_settings(tmp_path, sources=[EXAMPLES], admin_token="admin-s3cret")
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        assert (await client.get("/api/status")).json()["last_ingest"] is None
        wrong = await client.post("/api/admin/ingest", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        done = await client.post("/api/admin/ingest", headers={"Authorization": "Bearer admin-s3cret"})
        assert done.status_code == 200 and done.json()["added"] > 40 and done.json()["ok"] is True
        status = (await client.get("/api/status")).json()
        assert status["knowledge_base"]["chunks"] == done.json()["added"]
        assert status["last_ingest"]["added"] == done.json()["added"] and status["last_ingest"]["finished_at"]
        with FileLock(str(tmp_path / "ingest.lock")):
            busy = await client.post("/api/admin/ingest", headers={"Authorization": "Bearer admin-s3cret"})
        assert busy.status_code == 409 and "another ingest is running" in busy.json()["error"]["message"]


def test_every_runs_again_on_schedule_without_overlap(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(tmp_path)
    command = [str(BIN / "assistant"), "ingest", "--source", str(EXAMPLES), "--json", "--every", "10s"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        reports = []
        deadline = time.monotonic() + 90
        while len(reports) < 2 and time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if line.strip():
                reports.append(json.loads(line))
        assert len(reports) == 2
        assert reports[0]["added"] > 40 and reports[1]["chunks_embedded"] == 0
        assert process.poll() is None  # still running, waiting for the next run
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert json.loads((tmp_path / "last-ingest.json").read_text())["unchanged"] == reports[0]["added"]


def test_bad_schedule_is_refused(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [str(BIN / "assistant"), "ingest", "--source", str(EXAMPLES), "--every", "often"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "--every" in result.stderr


async def test_status_names_the_parts_that_failed(tmp_path: Path, model_dir: Path):
    from tests.test_ingest_units import write_catalog

    (tmp_path / "models").symlink_to(model_dir / "models", target_is_directory=True)
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    write_catalog(catalog)
    settings = make_settings(tmp_path, sources=[catalog], admin_token="admin-s3cret")
    async with AsyncTestClient(create_app(settings, chat_page=False)) as client:
        done = await client.post("/api/admin/ingest", headers={"Authorization": "Bearer admin-s3cret"})
        assert done.status_code == 200 and done.json()["status"] == "partial" and done.json()["added"] > 0
        last = (await client.get("/api/status")).json()["last_ingest"]
    failed = {unit["unit"]: unit for unit in last["failed_units"]}
    assert (
        failed["file:broken.yaml"]["file"] == "broken.yaml"
        and "malformed YAML" in failed["file:broken.yaml"]["message"]
    )
    assert {"duplicate_ref", "dangling_ref", "page_outside_nav"} <= set(last["warning_counts"])
