"""The knowledge base against a real Chroma server (`chroma run`) instead of the embedded client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.embeddings import Embedder
from assistant.errors import KnowledgeBaseError
from assistant.knowledge import KnowledgeBase, open_chroma
from ingest.pipeline import run_ingest
from ingest.sources.local_files import LocalFilesSource
from tests.conftest import BIN, EXAMPLES, free_port, run_process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    args = [str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    with run_process(args, f"http://127.0.0.1:{port}/api/v2/heartbeat"):
        yield f"http://127.0.0.1:{port}"


def test_sync_and_search_through_a_chroma_server(chroma_url: str, embedder: Embedder, tmp_path: Path):
    kb = KnowledgeBase(open_chroma(tmp_path, chroma_url), embedder, "server-test")
    first = run_ingest(kb, [LocalFilesSource(EXAMPLES)], tmp_path / "lock").to_dict()
    assert first["added"] == kb.count() > 40
    again = run_ingest(kb, [LocalFilesSource(EXAMPLES)], tmp_path / "lock").to_dict()
    assert again["chunks_embedded"] == 0
    hits = kb.search("who runs the kafka cluster", k=3)
    assert "resource:default/event-bus" in [h.entity for h in hits]
    assert not (tmp_path / "chroma").exists(), "a configured server must not create an embedded store"


def test_unreachable_chroma_server_is_a_clear_error(tmp_path: Path):
    with pytest.raises(KnowledgeBaseError, match="ASSISTANT_CHROMA_URL"):
        open_chroma(tmp_path, f"http://127.0.0.1:{free_port()}")
