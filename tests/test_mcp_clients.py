"""The MCP tools through the other ways agents reach them: `assistant mcp` over stdio (the official client
launching the process), and LangChain's MCP adapters loading them as LangChain tools over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_mcp_adapters.client import MultiServerMCPClient
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from assistant.app import create_app
from tests.conftest import BIN, peer_settings, serve_in_thread
from tests.peers import ollama_server, openai_server

pytestmark = pytest.mark.slow
PLUGIN = "component:default/backchat-plugin"
QUESTION = "Who owns the backchat-plugin component?"


@pytest.fixture(scope="module")
def model_server() -> Iterator[str]:
    with serve_in_thread(ollama_server.app) as url:
        yield url


async def test_stdio_serves_the_same_tools_and_prompts(fixture_data_dir: Path, tmp_path: Path):
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(fixture_data_dir),
        "ASSISTANT_COLLECTION": "assistant-test",
        "ASSISTANT_LLM_TYPE": "openai",  # a backend that pools connections: they are closed at the end
        "ASSISTANT_LLM_MODEL": "echo",
        "ASSISTANT_BACKSTAGE_URL": "http://backstage.test",
    }
    env.pop("ASSISTANT_CONFIG", None)
    errors = tmp_path / "stderr.txt"
    with serve_in_thread(openai_server.create_app()) as model_url, errors.open("w") as errlog:
        env["ASSISTANT_LLM_BASE_URL"] = f"{model_url}/v1"
        server = StdioServerParameters(command=str(BIN / "assistant"), args=["mcp"], env=env)
        async with stdio_client(server, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name for tool in (await session.list_tools()).tools}
            entity = await session.call_tool("get_entity", {"ref": PLUGIN})
            answer = await session.call_tool("ask", {"question": "What does the backchat-plugin do?"})
            owner = await session.call_tool("ask", {"question": QUESTION})
            prompts = {prompt.name for prompt in (await session.list_prompts()).prompts}
    assert tools == {"search", "get_entity", "ask"}
    assert entity.structuredContent["url"] == "http://backstage.test/catalog/default/component/backchat-plugin"
    assert "tracking team" in answer.structuredContent["answer"]  # the model server's words
    assert PLUGIN in owner.structuredContent["answer"]
    assert "catalog-qa" in prompts
    assert "Unclosed" not in errors.read_text()


async def test_langchain_mcp_adapters_load_and_call_the_tools(fixture_data_dir: Path, model_server: str):
    settings = peer_settings(fixture_data_dir, model_server, api_keys=["sk-agent"])
    with serve_in_thread(create_app(settings, chat_page=False)) as url:
        client = MultiServerMCPClient(
            {
                "portal": {
                    "transport": "streamable_http",
                    "url": f"{url}/mcp",
                    "headers": {"Authorization": "Bearer sk-agent"},
                }
            }
        )
        tools = {tool.name: tool for tool in await client.get_tools()}
        call = {"name": "search", "args": {"query": QUESTION, "k": 2}, "id": "call-1", "type": "tool_call"}
        found = await tools["search"].ainvoke(call)
        answered = await tools["ask"].ainvoke({**call, "name": "ask", "args": {"question": QUESTION}})
        entity_text = await tools["get_entity"].ainvoke({"ref": PLUGIN})
    assert set(tools) == {"search", "get_entity", "ask"}
    assert "query" in tools["search"].args
    assert isinstance(found, ToolMessage)
    sources = found.artifact["structured_content"]["sources"]
    assert len(sources) == 2 and sources[0]["entity"] == PLUGIN
    assert PLUGIN in answered.artifact["structured_content"]["answer"]
    assert "backchat-plugin" in str(entity_text)
