"""The `assistant` command as a user runs it: real processes, real exit codes, real output."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import BACKCHAT_FIXTURE, BIN, EXAMPLES


def assistant(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environment.update({"ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_COLLECTION": "assistant-test", **env})
    return subprocess.run([str(BIN / "assistant"), *args], env=environment, capture_output=True, text=True, timeout=300)


def test_help_is_fast_and_lists_the_commands(tmp_path: Path):
    started = time.monotonic()
    result = assistant("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for command in ("ingest", "serve", "ask"):
        assert command in result.stdout
    # --help must not import torch, Chroma or Gradio (seconds each); generous bound for a loaded CI machine
    assert time.monotonic() - started < 5
    for command in ("ingest", "serve", "ask"):
        assert assistant(command, "--help", data_dir=tmp_path).returncode == 0


def test_ingest_json_report_then_unchanged_rerun(tmp_path: Path):
    first = assistant("ingest", "--source", str(EXAMPLES), "--json", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["added"] > 40 and report["chunks_embedded"] == report["added"]
    assert {"added", "updated", "unchanged", "deleted", "skipped", "chunks_embedded", "seconds", "errors"} <= set(
        report
    )
    second = assistant("ingest", "--source", str(EXAMPLES), data_dir=tmp_path)
    assert second.returncode == 0
    assert "nothing changed: no chunks embedded" in second.stdout


def test_ingest_without_sources_explains_what_to_do(tmp_path: Path):
    result = assistant("ingest", data_dir=tmp_path)
    assert result.returncode == 2
    assert "--source" in result.stderr


def test_ingest_of_malformed_yaml_exits_nonzero_with_the_file(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: [x\n")
    result = assistant("ingest", "--source", str(bad), data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert "bad.yaml" in result.stderr and "malformed YAML" in result.stderr


def test_wrong_setting_fails_at_start_naming_it(tmp_path: Path):
    result = assistant("ask", "hello", data_dir=tmp_path, ASSISTANT_TOP_K="lots")
    assert result.returncode == 2
    assert "ASSISTANT_TOP_K" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_ask_on_the_backchat_fixture_cites_the_plugin_first(fixture_data_dir: Path):
    result = assistant(
        "ask",
        "Who owns the backchat-plugin component?",
        "--json",
        data_dir=fixture_data_dir,
        ASSISTANT_LLM_MAX_TOKENS="32",
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert {"answer", "sources", "prompt", "backend", "model"} <= set(record)
    first = record["sources"][0]
    assert first["entity"] == "component:default/backchat-plugin"
    assert {"entity", "title", "url", "score"} <= set(first)
    assert record["answer"]
    pages = [s for s in record["sources"] if "page" in s]
    assert all(s["url"].startswith("http://localhost:7007/docs/default/system/backchat/") for s in pages)


@pytest.mark.slow
def test_ask_streams_text_to_the_terminal(fixture_data_dir: Path):
    result = assistant("ask", "What is the Tanzu group?", data_dir=fixture_data_dir, ASSISTANT_LLM_MAX_TOKENS="16")
    assert result.returncode == 0, result.stderr
    assert "group:default/tanzu" in result.stderr  # the sources list
    assert result.stdout.strip()


def test_fixture_ingest_from_the_command_line(tmp_path: Path):
    result = assistant("ingest", "--source", str(BACKCHAT_FIXTURE), "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] > 50
