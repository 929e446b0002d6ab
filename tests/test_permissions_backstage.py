"""`ASSISTANT_PERMISSIONS=backstage` against a real Backstage with the permission framework on.

The harness `tests/backstage/permissions.js` runs the catalog, the permission backend with a policy (entities
tagged `restricted` are readable only by members of group:default/security) and the auth backend with a
header sign-in that issues real Backstage user tokens. Alice is in the security group, Bob is not. The
assistant asks Backstage, with each user's own token, which sources that user may read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from assistant.app import create_app
from assistant.knowledge import KnowledgeBase, open_chroma
from ingest.pipeline import run_ingest
from ingest.sources.local_files import LocalFilesSource
from tests.conftest import free_port, peer_settings, serve_in_thread, stop_process
from tests.peers import ollama_server

pytestmark = pytest.mark.slow
HARNESS = Path(__file__).parent / "backstage"
SERVICE_TOKEN = "backchat-assistant-permission-tests"
SECRET = "component:default/fraud-scorer"
PUBLIC = "component:default/payments-gateway"
QUESTION = "Which service scores card payments for fraud?"
PROVIDER = "test-header"

CATALOG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: security}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [security]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {memberOf: [payments]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: fraud-scorer
  title: Fraud Scorer
  description: Scores card payments for fraud with the Falcon model before they are captured.
  tags: [restricted]
  annotations: {backstage.io/techdocs-ref: "dir:."}
spec: {type: service, lifecycle: production, owner: security}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-gateway
  title: Payments Gateway
  description: Takes card payments at checkout and asks for a fraud score before capturing each one.
spec: {type: service, lifecycle: production, owner: payments, dependsOn: ["component:fraud-scorer"]}
"""
MKDOCS = "site_name: Fraud Scorer\nnav:\n  - Retraining: index.md\n"
DOCS = "# Retraining the fraud model\n\nRetrain the Falcon fraud model every week from the scored card payments.\n"


class Backstage:
    def __init__(self, url: str) -> None:
        self.url = url

    def token(self, user: str) -> str:
        """A real Backstage user token, from the auth backend's refresh endpoint as a frontend gets one."""
        response = httpx.get(
            f"{self.url}/api/auth/{PROVIDER}/refresh",
            params={"optional": "", "env": "development"},
            headers={"x-test-user": user, "X-Requested-With": "XMLHttpRequest"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["backstageIdentity"]["token"]


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("permission-catalog")
    (root / "catalog-info.yaml").write_text(CATALOG)
    (root / "mkdocs.yml").write_text(MKDOCS)
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(DOCS)
    return root


@pytest.fixture(scope="module")
def backstage(tmp_path_factory: pytest.TempPathFactory, catalog_dir: Path) -> Iterator[Backstage]:
    assert (HARNESS / "node_modules").is_dir(), "run `npm ci` in tests/backstage (make test does)"
    root = tmp_path_factory.mktemp("permission-backstage")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = {
        "app": {"baseUrl": url},
        "backend": {
            "baseUrl": url,
            "listen": {"host": "127.0.0.1", "port": port},
            "database": {"client": "better-sqlite3", "connection": ":memory:"},
            "auth": {
                "externalAccess": [{"type": "static", "options": {"token": SERVICE_TOKEN, "subject": "assistant"}}]
            },
        },
        "permission": {"enabled": True},
        "auth": {"providers": {PROVIDER: {}}},
        "catalog": {
            "rules": [{"allow": ["Component", "Group", "User", "Location"]}],
            "locations": [{"type": "file", "target": str(catalog_dir / "catalog-info.yaml")}],
            "processingInterval": {"seconds": 2},
        },
    }
    config_file = root / "app-config.yaml"
    config_file.write_text(yaml.safe_dump(config))
    log_file = root / "backstage.log"
    log = log_file.open("wb")
    process = subprocess.Popen(
        ["node", "permissions.js", "--config", str(config_file)],
        cwd=HARNESS,
        env={**os.environ, "NODE_ENV": "development"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    service = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}, timeout=10)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Backstage exited: {log_file.read_text()[-3000:]}")
            try:
                items = service.post("/api/catalog/entities/by-refs", json={"entityRefs": [SECRET, PUBLIC]}).json()
                if None not in items.get("items", [None]):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("Backstage did not serve the test catalog within 180 s")
            time.sleep(1)
        yield Backstage(url)
    finally:
        service.close()
        stop_process(process, grace=20)
        log.close()
        print(log_file.read_text()[-2000:], file=sys.stderr)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, embedder, catalog_dir: Path) -> Path:
    """The ingest reads everything (it keeps its own access); nothing about permissions is stored."""
    data_dir = tmp_path_factory.mktemp("permission-data")
    kb = KnowledgeBase(open_chroma(data_dir, None), embedder, "assistant-test")
    run = run_ingest(kb, [LocalFilesSource(catalog_dir)], data_dir / "ingest.lock")
    assert run.ok, run.to_dict()
    return data_dir


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    with serve_in_thread(ollama_server.app) as url:
        yield url


@pytest.fixture(scope="module")
def guarded(data_dir: Path, model_url: str, backstage: Backstage) -> Iterator[str]:
    settings = peer_settings(
        data_dir, model_url, permissions="backstage", backstage_url=backstage.url, api_keys=["sk-trusted"]
    )
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        yield url


@pytest.fixture(scope="module")
def tokens(backstage: Backstage) -> dict[str, str]:
    return {user: backstage.token(user) for user in ("alice", "bob")}


def headers(token: str | None) -> dict[str, str]:
    """What Backstage's proxy forwards (the user's token), and the service's own key for a trusted client."""
    sent = {"X-Api-Key": "sk-trusted"}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return sent


def chat(url: str, token: str | None, question: str = QUESTION) -> httpx.Response:
    body = {"question": question, "stream": False}
    return httpx.post(f"{url}/api/chat", json=body, headers=headers(token), timeout=60)


def prompts_sent_since(count: int) -> str:
    return json.dumps(ollama_server.CHATS[count:])


def test_api_chat_shows_restricted_sources_only_to_the_reader_allowed(guarded: str, tokens: dict[str, str]):
    alice = chat(guarded, tokens["alice"])
    assert alice.status_code == 200, alice.text
    alice_record = alice.json()
    assert SECRET in [source["entity"] for source in alice_record["sources"]]
    assert any(source.get("page") == "index" for source in alice_record["sources"]), "TechDocs follow the entity"

    sent_before = len(ollama_server.CHATS)
    bob = chat(guarded, tokens["bob"])
    assert bob.status_code == 200, bob.text
    bob_record = bob.json()
    assert "fraud-scorer" not in bob.text.lower() and "fraud scorer" not in bob.text.lower()
    assert PUBLIC in [source["entity"] for source in bob_record["sources"]]
    assert bob_record["withheld"] >= 2  # the entity and its TechDocs page, counted, never named
    # Nothing the model was given names it either: not the gateway's "Depends on" line, not the facts.
    assert "fraud-scorer" not in prompts_sent_since(sent_before)


def test_facts_about_a_readable_entity_leave_out_what_the_reader_may_not_read(guarded: str, tokens):
    question = "What does payments-gateway depend on?"
    sent_before = len(ollama_server.CHATS)
    alice = chat(guarded, tokens["alice"], question)
    assert alice.status_code == 200
    assert "depends on component:default/fraud-scorer" in prompts_sent_since(sent_before)
    # the catalog's own answer, stated first, names the dependency only to the reader allowed to see it
    assert alice.json()["answer"].startswith(
        "**component:default/payments-gateway** depends on [component:default/fraud-scorer]("
    )
    sent_before = len(ollama_server.CHATS)
    bob = chat(guarded, tokens["bob"], question)
    assert bob.status_code == 200 and "fraud-scorer" not in bob.text
    assert bob.json()["catalog_facts"] == []
    sent = prompts_sent_since(sent_before)
    assert "payments-gateway" in sent and "fraud-scorer" not in sent


def test_retrieval_fills_k_with_readable_sources(guarded: str, tokens):
    def retrieve(token: str) -> list[str]:
        response = httpx.post(
            f"{guarded}/api/retrieve", json={"question": QUESTION, "k": 3}, headers=headers(token), timeout=60
        )
        assert response.status_code == 200, response.text
        return [source["entity"] for source in response.json()["sources"]]

    alice, bob = retrieve(tokens["alice"]), retrieve(tokens["bob"])
    assert SECRET in alice and SECRET not in bob
    assert len(bob) == 3, "more candidates are fetched to fill k after the unreadable ones are left out"


def test_compatible_apis_answer_each_user_with_what_they_may_read(guarded: str, tokens):
    body = {"model": "backstage-assistant", "messages": [{"role": "user", "content": QUESTION}]}
    for user, sees in (("alice", True), ("bob", False)):
        openai = httpx.post(f"{guarded}/v1/chat/completions", json=body, headers=headers(tokens[user]), timeout=60)
        ollama = httpx.post(
            f"{guarded}/ollama/api/chat", json={**body, "stream": False}, headers=headers(tokens[user]), timeout=60
        )
        for response in (openai, ollama):
            assert response.status_code == 200, response.text
            assert ("fraud-scorer" in response.text) is sees, (user, response.text)


@asynccontextmanager
async def mcp_session(url: str, token: str | None) -> AsyncIterator[ClientSession]:
    async with (
        httpx.AsyncClient(headers=headers(token), timeout=60) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_mcp_tools_answer_each_user_with_what_they_may_read(guarded: str, tokens):
    async with mcp_session(guarded, tokens["alice"]) as session:
        alice_search = await session.call_tool("search", {"query": QUESTION})
        alice_entity = await session.call_tool("get_entity", {"ref": SECRET})
        alice_gateway = await session.call_tool("get_entity", {"ref": PUBLIC})
    assert SECRET in [source["entity"] for source in alice_search.structuredContent["sources"]]
    assert not alice_entity.isError and alice_entity.structuredContent["ref"] == SECRET
    assert SECRET in [relation["entity"] for relation in alice_gateway.structuredContent["relations"]]

    async with mcp_session(guarded, tokens["bob"]) as session:
        bob_search = await session.call_tool("search", {"query": QUESTION})
        bob_entity = await session.call_tool("get_entity", {"ref": SECRET})
        bob_nothing = await session.call_tool("get_entity", {"ref": "component:default/no-such-thing"})
        bob_gateway = await session.call_tool("get_entity", {"ref": PUBLIC})
        bob_ask = await session.call_tool("ask", {"question": QUESTION})
        bob_prompt = await session.get_prompt("catalog-qa", {"question": QUESTION})
    assert "fraud-scorer" not in json.dumps(bob_search.structuredContent)
    # Refused exactly like an entity that does not exist: the answer does not say it is there.
    assert bob_entity.isError and bob_nothing.isError
    assert bob_entity.content[0].text.replace(SECRET, "X") == bob_nothing.content[0].text.replace(
        "component:default/no-such-thing", "X"
    )
    assert "fraud-scorer" not in json.dumps(bob_gateway.structuredContent)
    assert not bob_ask.isError and "fraud-scorer" not in json.dumps(bob_ask.structuredContent)
    assert PUBLIC in bob_prompt.messages[0].content.text
    assert "fraud-scorer" not in bob_prompt.messages[0].content.text + json.dumps(bob_prompt.meta)


def test_without_a_token_or_with_a_bad_one_every_protocol_refuses_with_401(guarded: str, tokens):
    body = {"model": "backstage-assistant", "messages": [{"role": "user", "content": QUESTION}]}
    mcp_call = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    mcp_accept = {"Accept": "application/json, text/event-stream"}
    tampered = tokens["alice"][:-4] + ("AAAA" if not tokens["alice"].endswith("AAAA") else "BBBB")
    for token, code in ((None, "backstage_token_required"), (tampered, "backstage_token_rejected")):
        native = chat(guarded, token)
        openai = httpx.post(f"{guarded}/v1/chat/completions", json=body, headers=headers(token), timeout=30)
        ollama = httpx.post(f"{guarded}/ollama/api/chat", json=body, headers=headers(token), timeout=30)
        mcp = httpx.post(f"{guarded}/mcp", json=mcp_call, headers={**headers(token), **mcp_accept}, timeout=30)
        assert [r.status_code for r in (native, openai, ollama, mcp)] == [401] * 4
        assert native.json()["error"]["code"] == code and "Backstage" in native.json()["error"]["message"]
        assert openai.json()["error"]["code"] == code and openai.json()["error"]["type"] == "authentication_error"
        assert "Backstage" in ollama.json()["error"]
        assert mcp.json()["error"]["code"] == -32600 and "Backstage" in mcp.json()["error"]["message"]
        assert "fraud" not in native.text + openai.text + ollama.text + mcp.text


def test_the_api_key_moves_to_x_api_key_and_is_still_required(guarded: str, tokens):
    only_user = httpx.post(
        f"{guarded}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": QUESTION}]},
        headers={"Authorization": f"Bearer {tokens['alice']}"},
        timeout=30,
    )
    assert only_user.status_code == 401 and "X-Api-Key" in only_user.json()["error"]["message"]


def test_backstage_unreachable_refuses_rather_than_answering_from_everything(data_dir: Path, model_url: str):
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = peer_settings(data_dir, model_url, permissions="backstage", backstage_url=nowhere)
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        response = chat(url, "some-user-token")
    assert response.status_code == 503 and response.json()["error"]["code"] == "permission_check_failed"
    assert nowhere in response.json()["error"]["message"] and "fraud" not in response.text


def test_off_mode_is_unchanged_everyone_sees_everything(data_dir: Path, model_url: str):
    settings = peer_settings(data_dir, model_url)
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        response = httpx.post(f"{url}/api/chat", json={"question": QUESTION, "stream": False}, timeout=60)
    assert response.status_code == 200
    record = response.json()
    assert SECRET in [source["entity"] for source in record["sources"]] and "withheld" not in record


def test_page_signs_in_like_backstages_frontend_and_shows_each_user_what_they_may_read(
    data_dir: Path, model_url: str, backstage: Backstage
):
    from playwright.sync_api import sync_playwright

    from tests.peers import backstage_proxy
    from tests.test_chat_page_browser import CHROMIUM

    settings = peer_settings(
        data_dir,
        model_url,
        permissions="backstage",
        backstage_url=backstage.url,
        backstage_auth_provider=PROVIDER,
        root_path=backstage_proxy.PREFIX,
    )
    with (
        serve_in_thread(create_app(settings)) as app_url,
        serve_in_thread(backstage_proxy.create_app(app_url, backstage=backstage.url)) as origin,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )

        def answer_for(user: str | None) -> str:
            context = browser.new_context()
            if user:  # the session cookie Backstage's auth backend reads on refresh
                context.add_cookies([{"name": "test-user", "value": user, "url": origin}])
            page = context.new_page()
            page.goto(f"{origin}{backstage_proxy.PREFIX}/")
            page.wait_for_selector("html[data-backstage-sign-in]", timeout=60_000)
            box = page.get_by_role("textbox").first
            box.fill(QUESTION)
            box.press("Enter")
            chat = page.locator("#assistant-chat")
            done = chat.get_by_text("Sources", exact=True) if user else chat.get_by_text("Sign in to Backstage")
            done.first.wait_for(timeout=60_000)
            text = page.locator("body").inner_text()  # the example questions too: one page for every user
            context.close()
            return text

        alice, bob, nobody = answer_for("alice"), answer_for("bob"), answer_for(None)
        browser.close()
    assert "fraud-scorer" in alice
    assert "payments-gateway" in bob and "fraud-scorer" not in bob.lower() and "Fraud Scorer" not in bob
    assert "Sign in to Backstage" in nobody and "fraud-scorer" not in nobody


def test_a_policy_outcome_changed_in_backstage_applies_without_a_reingest(
    data_dir: Path, model_url: str, backstage: Backstage, catalog_dir: Path, tokens
):
    """Nothing about permissions is stored at ingest: un-restrict the entity in Backstage, and Bob sees it."""
    settings = peer_settings(
        data_dir, model_url, permissions="backstage", backstage_url=backstage.url, permissions_cache_seconds=0
    )
    bob = httpx.Client(base_url=backstage.url, headers={"Authorization": f"Bearer {tokens['bob']}"}, timeout=10)

    def wait_until_bob_may_read(readable: bool) -> None:
        deadline = time.monotonic() + 60
        while True:
            items = bob.post("/api/catalog/entities/by-refs", json={"entityRefs": [SECRET]}).json()["items"]
            if (items[0] is not None) is readable:
                return
            assert time.monotonic() < deadline, "Backstage did not pick up the catalog edit"
            time.sleep(0.5)

    file = catalog_dir / "catalog-info.yaml"
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        try:
            assert SECRET not in chat(url, tokens["bob"]).text
            file.write_text(CATALOG.replace("  tags: [restricted]\n", ""))
            wait_until_bob_may_read(True)
            assert SECRET in [source["entity"] for source in chat(url, tokens["bob"]).json()["sources"]]
        finally:
            file.write_text(CATALOG)
            wait_until_bob_may_read(False)
            bob.close()
