"""The portal's knowledge over the Model Context Protocol: tools `search`, `get_entity`, `ask`, and the prompt
templates as MCP prompts. One server for both transports: streamable HTTP at `/mcp` and stdio (`assistant mcp`).

A thin adapter like the HTTP front doors: the same Answerer, retrieval, prompts and citations as the chat page.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import McpError
from mcp.types import INVALID_PARAMS, ErrorData, GetPromptResult, PromptArgument, PromptMessage, TextContent
from mcp.types import Prompt as MCPPrompt
from pydantic import BaseModel, Field

from assistant import __version__
from assistant.answerer import Answerer, DoneEvent, ErrorEvent, Question, SourcesEvent, TokenEvent
from assistant.core import Core
from assistant.documents import Source
from assistant.entities import EntityDirectory
from assistant.errors import AssistantError
from assistant.permissions import ReadChecker, Reader, readable_view
from assistant.prompts import PromptLibrary
from assistant.web.readers import reader_of

ENTITY_REF_PATTERN = r"^[A-Za-z][A-Za-z0-9]*:(?:[A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$"
SNIPPET_CHARS = 600
PROGRESS_EVERY = 4  # tokens between progress notifications while `ask` generates

INSTRUCTIONS = (
    "Knowledge of the Backstage developer portal: its software catalog (components, APIs, systems, teams, "
    "users) and TechDocs. Use `search` to find sources, `get_entity` for an entity's record and relations "
    "(owner, dependencies, APIs), `ask` for an answer with citations. Entity refs look like "
    "component:default/parcel-tracker."
)

QueryText = Annotated[str, Field(min_length=1, pattern=r"\S", description="What to look for, in plain words")]
EntityScope = Annotated[
    str | None,
    Field(pattern=ENTITY_REF_PATTERN, description="Limit to this entity and its relations, e.g. component:default/x"),
]


class SourceResult(BaseModel):
    entity: str = Field(description="The entity ref the source belongs to")
    title: str
    url: str = Field(description="Where to open it in Backstage")
    page: str | None = Field(default=None, description="The TechDocs page, for a documentation source")
    section: str | None = None
    snippet: str = Field(description="The best matching text")
    why: str = Field(description="Why retrieval picked it")
    score: float


class SearchResult(BaseModel):
    sources: list[SourceResult]


class RelationResult(BaseModel):
    relation: str
    entity: str
    direction: str = Field(description="outgoing: stated by this entity; incoming: stated by the other entity")


class PageResult(BaseModel):
    page: str
    title: str
    url: str


class EntityResult(BaseModel):
    ref: str
    url: str = Field(description="The entity's page in Backstage")
    kind: str | None
    namespace: str | None
    name: str | None
    title: str | None
    description: str | None
    owner: str | None
    system: str | None
    lifecycle: str | None
    type: str | None
    tags: list[str]
    text: str = Field(description="The entity as ingested")
    relations: list[RelationResult]
    techdocs: list[PageResult]


class PromptStamp(BaseModel):
    name: str
    version: str
    hash: str
    commit: str | None = None


class AskResult(BaseModel):
    answer: str
    complete: bool = Field(description="False when the backend stopped mid-answer; `error` says why")
    error: str | None = None
    sources: list[SourceResult]
    prompt: PromptStamp
    backend: str
    model: str


def source_result(source: Source) -> SourceResult:
    return SourceResult(
        entity=source.entity,
        title=source.title,
        url=source.url,
        page=source.page,
        section=source.section,
        snippet=source.snippet[:SNIPPET_CHARS],
        why=source.reason,
        score=round(source.score, 4),
    )


class PortalMCP(FastMCP):
    """FastMCP whose prompts are the prompt library's templates, read live (edits show without a restart)."""

    def __init__(
        self, answerer: Answerer, prompts: PromptLibrary, checker: ReadChecker | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.answerer = answerer
        self.library = prompts
        self.checker = checker

    def reader(self, ctx: Context | None = None) -> Reader | None:
        """Who is asking (`backstage` permission mode): the bearer token of the HTTP request that carries the call."""
        if self.checker is None:
            return None
        context = ctx or self.get_context()
        request = context.request_context.request if context.request_context else None
        return reader_of(getattr(request, "headers", {}), self.checker)

    async def list_prompts(self) -> list[MCPPrompt]:
        return [
            MCPPrompt(
                name=template.name,
                title=f"{template.name} v{template.version}",
                description=template.description,
                arguments=[
                    PromptArgument(name="question", description="The question to ask", required=True),
                    PromptArgument(name="entity", description="Limit sources to this entity ref", required=False),
                ],
                _meta={"version": template.version, "hash": template.content_hash},
            )
            for template in self.library.templates()
        ]

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None) -> GetPromptResult:
        """The template rendered as the model would get it, sources retrieved and quoted."""
        arguments = arguments or {}
        question = Question(str(arguments.get("question") or ""), prompt=name, entity=arguments.get("entity") or None)
        try:
            question.reader = self.reader()
            self.answerer.validate(question)
            template = self.library.get(name)
            sources = await self.answerer.sources_for(question, template)
            rendered = await self.answerer.render(question, template, sources)
        except AssistantError as error:
            raise McpError(ErrorData(code=INVALID_PARAMS, message=error.message)) from None
        # MCP prompts have no system role: the instructions lead the user message.
        text = "\n\n".join(message["content"] for message in rendered.messages if message["role"] != "assistant")
        stamp = self.library.stamp(template)
        return GetPromptResult(
            description=f"{template.description} ({stamp['name']} v{stamp['version']}, {stamp['hash'][:12]})",
            messages=[PromptMessage(role="user", content=TextContent(type="text", text=text))],
            _meta={"prompt": stamp, "sources": [source.to_dict() for source in sources]},
        )


def build_mcp(
    answerer: Answerer,
    prompts: PromptLibrary,
    entities: EntityDirectory,
    max_body_bytes: int = 1_000_000,
    checker: ReadChecker | None = None,
) -> PortalMCP:
    """The MCP server over the core objects; `streamable_http_app()` or `run("stdio")` serves it."""
    server = PortalMCP(
        answerer,
        prompts,
        checker,
        name="backchat-assistant",
        instructions=INSTRUCTIONS,
        stateless_http=True,  # no session state to lose between replicas or restarts
        max_request_body_size=max_body_bytes,
        # Served on the service's own host names, like the rest of the API; ASSISTANT_API_KEYS guards it.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        log_level="WARNING",
    )
    server._mcp_server.version = __version__

    @server.tool(structured_output=True)
    async def search(
        query: QueryText,
        ctx: Context,
        k: Annotated[int, Field(ge=1, le=50, description="How many sources")] = 5,
        entity: EntityScope = None,
    ) -> SearchResult:
        """Find the catalog entities and TechDocs pages that answer a question, best first, each with why."""
        try:
            answerer.validate(Question(query))
            sources = await asyncio.to_thread(answerer.retrieve, query, k, entity, server.reader(ctx))
        except AssistantError as error:
            raise ToolError(error.message) from None
        return SearchResult(sources=[source_result(source) for source in sources])

    @server.tool(structured_output=True)
    async def get_entity(
        ref: Annotated[str, Field(min_length=1, description="Entity ref: kind:namespace/name, e.g. group:default/x")],
        ctx: Context,
    ) -> EntityResult:
        """A catalog entity as ingested: its record, relations both ways, TechDocs pages and Backstage URL."""
        try:
            view = await asyncio.to_thread(entities.get, ref)
            reader = server.reader(ctx)
            if reader is not None:
                view = await asyncio.to_thread(readable_view, view, reader)
        except AssistantError as error:
            raise ToolError(error.message) from None
        return EntityResult(
            ref=view.ref,
            url=view.url,
            **{name: (str(value) if value is not None else None) for name, value in view.metadata.items()},
            tags=view.tags,
            text=view.text,
            relations=[RelationResult(**vars(relation)) for relation in view.relations],
            techdocs=[PageResult(**vars(page)) for page in view.techdocs],
        )

    @server.tool(structured_output=True)
    async def ask(
        question: QueryText,
        ctx: Context,
        prompt: Annotated[str | None, Field(description="Prompt template name (see the server's prompts)")] = None,
        backend: Annotated[str | None, Field(description="Configured backend name")] = None,
        model: Annotated[str | None, Field(description="Model name on that backend")] = None,
        entity: EntityScope = None,
    ) -> AskResult:
        """Answer a question from the catalog and TechDocs, citing its sources; reports progress as it writes."""
        request = Question(question, prompt=prompt, backend=backend, model=model, entity=entity)
        try:
            request.reader = server.reader(ctx)
            answerer.validate(request)
        except AssistantError as error:
            raise ToolError(error.message) from None
        record: dict[str, Any] = {}
        sources: list[Source] = []
        tokens = 0
        events = answerer.answer(request)
        async for event in events:
            if isinstance(event, SourcesEvent):
                sources = event.sources
                await ctx.report_progress(0, message=f"retrieved {len(sources)} sources; writing the answer")
            elif isinstance(event, TokenEvent):
                tokens += 1
                if tokens % PROGRESS_EVERY == 1:
                    await ctx.report_progress(tokens, message=f"{tokens} pieces written")
            elif isinstance(event, ErrorEvent) and tokens == 0:
                await events.aclose()
                raise ToolError(event.message)  # nothing written: the backend's error is the answer
            elif isinstance(event, DoneEvent):
                record = event.record
        error = record.get("error") or {}
        return AskResult(
            answer=str(record.get("answer", "")),
            complete=bool(record.get("complete")),
            error=error.get("message"),
            sources=[source_result(source) for source in sources],
            prompt=PromptStamp(**record["prompt"]),
            backend=str(record.get("backend")),
            model=str(record.get("model")),
        )

    return server


def mcp_for(core: Core) -> PortalMCP:
    """The MCP server of a running assistant, for `/mcp` and for `assistant mcp` (stdio)."""
    entities = EntityDirectory(core.retriever, core.settings.links_base_url)
    return build_mcp(
        core.answerer,
        core.prompts,
        entities,
        max_body_bytes=core.settings.max_request_chars * 8,
        checker=core.read_checker,
    )
