"""The MCP server at `/mcp`, driven by the official MCP client over streamable HTTP, on the Backchat fixture."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError

from assistant.app import create_app
from tests.conftest import free_port, make_settings, peer_settings, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow
PLUGIN = "component:default/backchat-plugin"
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture(scope="module")
def model_server() -> Iterator[str]:
    with serve_in_thread(ollama_server.app) as url:
        yield url


@pytest.fixture(scope="module")
def service(fixture_data_dir: Path, model_server: str) -> Iterator[str]:
    settings = peer_settings(fixture_data_dir, model_server, backstage_url="http://backstage.test")
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        yield url


@pytest.fixture(scope="module")
def keyed_service(fixture_data_dir: Path, model_server: str) -> Iterator[str]:
    settings = peer_settings(fixture_data_dir, model_server, api_keys=["sk-agent"])
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        yield url


@asynccontextmanager
async def connect(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    async with (
        httpx.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_tools_have_typed_inputs_and_structured_outputs(service: str):
    async with connect(service) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == {"search", "get_entity", "ask"}
    assert tools["search"].inputSchema["required"] == ["query"]
    assert tools["search"].inputSchema["properties"]["k"]["maximum"] == 50
    assert tools["get_entity"].inputSchema["required"] == ["ref"]
    assert {"question", "prompt", "backend", "model", "entity"} == set(tools["ask"].inputSchema["properties"])
    assert all(tool.outputSchema for tool in tools.values())


async def test_search_returns_the_sources_with_urls_snippets_and_why(service: str):
    async with connect(service) as session:
        result = await session.call_tool("search", {"query": "Who owns the backchat-plugin component?", "k": 3})
    assert not result.isError
    sources = result.structuredContent["sources"]
    assert len(sources) == 3
    assert sources[0]["entity"] == PLUGIN
    assert sources[0]["url"] == "http://backstage.test/catalog/default/component/backchat-plugin"
    assert sources[0]["snippet"] and sources[0]["why"]


async def test_get_entity_shows_relations_both_ways_and_techdocs(service: str):
    async with connect(service) as session:
        plugin = (await session.call_tool("get_entity", {"ref": PLUGIN})).structuredContent
        system = (await session.call_tool("get_entity", {"ref": "System:Backchat"})).structuredContent
    assert plugin["url"] == "http://backstage.test/catalog/default/component/backchat-plugin"
    assert plugin["kind"] == "component" and "backchat-plugin" in plugin["text"]
    assert {"relation": "part of system", "entity": "system:default/backchat", "direction": "outgoing"} in plugin[
        "relations"
    ]
    assert system["ref"] == "system:default/backchat"  # kind, case and namespace as Backstage resolves them
    assert {"relation": "has part", "entity": PLUGIN, "direction": "incoming"} in system["relations"]
    pages = {page["page"]: page["url"] for page in system["techdocs"]}
    assert pages["the-backchat-plugin"] == "http://backstage.test/docs/default/system/backchat/the-backchat-plugin/"


async def test_unknown_entity_is_a_tool_error_that_says_so(service: str):
    async with connect(service) as session:
        result = await session.call_tool("get_entity", {"ref": "component:default/no-such-thing"})
    assert result.isError
    assert "no entity 'component:default/no-such-thing'" in result.content[0].text


async def test_ask_answers_with_sources_prompt_stamp_and_progress(service: str):
    progress: list[tuple[float, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, message))

    async with connect(service) as session:
        result = await session.call_tool(
            "ask", {"question": "Who owns the backchat-plugin component?"}, progress_callback=on_progress
        )
    answer = result.structuredContent
    assert not result.isError and answer["complete"] is True
    assert PLUGIN in answer["answer"]  # the test model quotes its first source
    assert answer["sources"][0]["entity"] == PLUGIN
    assert answer["prompt"]["name"] == "catalog-qa" and answer["prompt"]["version"] and answer["prompt"]["hash"]
    assert len(progress) >= 2 and "sources" in (progress[0][1] or "")


async def test_bad_tool_arguments_are_tool_errors_naming_the_field(service: str):
    async with connect(service) as session:
        scoped = await session.call_tool("search", {"query": "hi", "entity": "%%%"})
        too_many = await session.call_tool("search", {"query": "hi", "k": 1000})
        unknown_prompt = await session.call_tool("ask", {"question": "hi", "prompt": "nope"})
    assert scoped.isError and "entity" in scoped.content[0].text
    assert too_many.isError and "k" in too_many.content[0].text
    assert unknown_prompt.isError and "no prompt template 'nope'" in unknown_prompt.content[0].text


async def test_prompt_templates_are_mcp_prompts(service: str):
    async with connect(service) as session:
        prompts = {prompt.name: prompt for prompt in (await session.list_prompts()).prompts}
        rendered = await session.get_prompt("techdocs-howto", {"question": "How do I install the Backchat plugin?"})
        with pytest.raises(McpError, match="no prompt template 'nope'"):
            await session.get_prompt("nope", {"question": "hi"})
    assert {"catalog-qa", "techdocs-howto"} <= set(prompts)
    arguments = {argument.name: argument.required for argument in prompts["catalog-qa"].arguments or []}
    assert arguments == {"question": True, "entity": False}
    assert prompts["catalog-qa"].description
    text = rendered.messages[0].content.text
    assert "How do I install the Backchat plugin?" in text and "backchat" in text.lower()
    assert rendered.meta["prompt"]["name"] == "techdocs-howto" and rendered.meta["sources"]


def test_malformed_and_oversized_requests_get_json_rpc_errors(service: str):
    malformed = httpx.post(f"{service}/mcp", content=b'{"jsonrpc": "2.0", "method": ', headers=ACCEPT)
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == -32700
    huge = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "search", "query": "x" * 2_000_000}}
    oversized = httpx.post(f"{service}/mcp", content=json.dumps(huge), headers=ACCEPT)
    assert oversized.status_code == 413


async def test_api_keys_guard_mcp(keyed_service: str):
    refused = httpx.post(f"{keyed_service}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=ACCEPT)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "API key" in refused.json()["error"]["message"]
    async with connect(keyed_service, headers={"Authorization": "Bearer sk-agent"}) as session:
        assert {tool.name for tool in (await session.list_tools()).tools} == {"search", "get_entity", "ask"}


async def test_ask_with_the_backend_down_is_a_tool_error_that_says_what_to_fix(fixture_data_dir: Path):
    down = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(fixture_data_dir, llm_type="ollama", llm_base_url=down, llm_model="llama3.2")
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        async with connect(url) as session:
            # a question the catalog graph cannot answer by itself: the model is needed
            result = await session.call_tool("ask", {"question": "How do I start the AI servers for Backchat?"})
    assert result.isError and "ASSISTANT_LLM_BASE_URL" in result.content[0].text
