"""The one answer pipeline: retrieve -> render the prompt -> stream from the backend -> final record.

Every front door (HTTP API, chat page, CLI) consumes the same typed events and translates them.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

from assistant.answer_events import (
    AnswerEvent,
    AnswerObserver,
    DoneEvent,
    ErrorEvent,
    Question,
    SourcesEvent,
    TokenEvent,
)
from assistant.catalog.answers import CatalogFact
from assistant.catalog_lead import catalog_lead
from assistant.citations import CitationCheck
from assistant.context_budget import ContextReport, fit_prompt
from assistant.documents import Source
from assistant.errors import InvalidRequest, LLMError, QuestionTooLong
from assistant.links import source_for
from assistant.llm.base import GenerationOptions, LLMBackend
from assistant.llm.registry import BackendRegistry
from assistant.passages import quoted_passage
from assistant.permissions import Reader, readable_catalog, readable_facts, readable_top
from assistant.prompt_templates import ChatMessage, PromptTemplate
from assistant.prompts import PromptLibrary, RenderedPrompt
from assistant.quoting import quoted_sources
from assistant.retrieval import Retriever
from assistant.tokens import prompt_tokens

log = logging.getLogger(__name__)

__all__ = [
    "AnswerEvent",
    "AnswerObserver",
    "Answerer",
    "DoneEvent",
    "ErrorEvent",
    "Question",
    "SourcesEvent",
    "TokenEvent",
]


class Answerer:
    def __init__(
        self,
        retriever: Retriever,
        prompts: PromptLibrary,
        backends: BackendRegistry,
        links_base_url: str,
        default_prompt: str,
        top_k: int = 5,
        max_context_chars: int | None = None,
        max_question_chars: int = 4000,
        max_history_messages: int = 20,
        observers: Sequence[AnswerObserver] = (),
    ) -> None:
        self.retriever = retriever
        self.prompts = prompts
        self.backends = backends
        self.links_base_url = links_base_url
        self.default_prompt = default_prompt
        self.top_k = top_k
        self.max_context_chars = max_context_chars
        self.max_question_chars = max_question_chars
        self.max_history_messages = max_history_messages
        self.observers = list(observers)

    def validate(self, question: Question) -> None:
        """Raise before any work for requests that cannot be answered (front doors map these to 4xx)."""
        if not question.text.strip():
            raise InvalidRequest("the question is empty")
        # Housekeeping requests (a chat UI asking for a title) quote the whole chat: the compatible
        # endpoints bound those by their request limits instead.
        if question.retrieval and len(question.text) > self.max_question_chars:
            raise QuestionTooLong(
                f"the question has {len(question.text)} characters; the limit is {self.max_question_chars} "
                "(ASSISTANT_MAX_QUESTION_CHARS)"
            )
        for message in question.history:
            if message.get("role") not in ("user", "assistant"):
                raise InvalidRequest("history messages must have role 'user' or 'assistant'")
        self.prompts.get(question.prompt or self.default_prompt)
        self.backends.get(question.backend)

    def retrieve(
        self,
        text: str,
        k: int | None = None,
        entity: str | None = None,
        reader: Reader | None = None,
        history: Sequence[ChatMessage] = (),
    ) -> list[Source]:
        return self.retrieve_readable(text, k, entity, reader, history)[0]

    def retrieve_readable(
        self,
        text: str,
        k: int | None = None,
        entity: str | None = None,
        reader: Reader | None = None,
        history: Sequence[ChatMessage] = (),
    ) -> tuple[list[Source], int]:
        """The best `k` sources `reader` may read, and how many of the best `k` overall were withheld."""
        k = k or self.top_k
        if reader is None:
            hits = self.retriever.retrieve(text, k, entity=entity, history=history)
            return [source_for(hit, self.links_base_url) for hit in hits], 0

        def candidates(n: int) -> list[Source]:
            hits = self.retriever.retrieve(text, n, entity=entity, history=history)
            return [source_for(hit, self.links_base_url) for hit in hits]

        return readable_top(candidates, k, reader)

    async def sources_for(self, question: Question, template: PromptTemplate) -> list[Source]:
        """The retrieved sources, or none for templates that do not use retrieval."""
        return (await self._retrieved(question, template))[0]

    async def _retrieved(self, question: Question, template: PromptTemplate) -> tuple[list[Source], int]:
        if not template.retrieval or not question.retrieval:
            return [], 0
        # Embedding is CPU work: keep it off the event loop so other streams keep flowing. Awaiting the vector
        # here, not in a worker thread, lets every question in flight share one batch (retrieval reuses it).
        # A follow-up is searched with the names it refers to, so that is the text embedded.
        query = self.retriever.read(question.text, question.history).query if question.history else question.text
        await asyncio.wrap_future(self.retriever.kb.embedder.submit_query(query))
        return await asyncio.to_thread(
            self.retrieve_readable, question.text, question.k, question.entity, question.reader, question.history
        )

    async def render(self, question: Question, template: PromptTemplate, sources: list[Source]) -> RenderedPrompt:
        """Exactly what the backend will be sent (`assistant prompts render` shows this too)."""
        backend = self.backends.get(question.backend)
        return (await self.fit(question, template, sources, self._options(question, template, backend)))[0]

    def _options(self, question: Question, template: PromptTemplate, backend: LLMBackend) -> GenerationOptions:
        # Template temperatures are written for chat models; base models sample badly and decode greedily.
        template_temperature = template.temperature if backend.style == "chat" else None
        return GenerationOptions(
            temperature=question.options.temperature
            if question.options.temperature is not None
            else template_temperature,
            max_tokens=question.options.max_tokens or template.max_tokens,
            stop=tuple(question.options.stop) + template.stop,
        )

    async def fit(
        self,
        question: Question,
        template: PromptTemplate,
        sources: list[Source],
        options: GenerationOptions,
        catalog_answer: str = "",
    ) -> tuple[RenderedPrompt, ContextReport]:
        """The prompt within the backend's context window, less the answer's tokens, and what was left out."""
        backend = self.backends.get(question.backend)
        model = question.model or backend.default_model
        window = await backend.context_window(model)
        counter = backend.token_counter(model)
        reserved = backend.resolve_options(options).max_tokens or 0
        history = list(question.history)[-self.max_history_messages :] if self.max_history_messages else []

        def prepare_and_fit() -> tuple[RenderedPrompt, ContextReport]:  # one hop off the event loop
            definitions = self.retriever.definition if template.uses_definitions else None
            context = quoted_sources(sources, definitions, self.max_context_chars)
            catalog = self.retriever.catalog_summary() if "catalog" in template.variables else None
            facts = (
                self.retriever.facts(question.text, question.entity, history=question.history)
                if "facts" in template.variables
                else []
            )
            if question.reader is not None:  # the prompt never names what the reader may not read
                catalog = readable_catalog(catalog, question.reader) if catalog is not None else None
                facts = readable_facts(facts, question.reader)

            def render(turns: Sequence[ChatMessage], quoted: Sequence[dict[str, Any]]) -> RenderedPrompt:
                return self.prompts.render(
                    template.name,
                    question.text,
                    quoted,
                    turns,
                    facts=facts,
                    entity_scope=question.entity,
                    catalog=catalog,
                    extra_system=question.client_system,
                    catalog_answer=catalog_answer,
                )

            def count(prompt: RenderedPrompt) -> int:
                return prompt_tokens(prompt, backend.style, counter)

            counted_with = "tokenizer" if counter.exact else "estimate"
            return fit_prompt(render, count, history, context, window, reserved, counted_with)

        return await asyncio.to_thread(prepare_and_fit)

    async def answer(self, question: Question) -> AsyncIterator[AnswerEvent]:
        """Events in order: sources, tokens, then done; an error event (then done) if the backend fails."""
        self.validate(question)
        started = time.perf_counter()
        template = self.prompts.get(question.prompt or self.default_prompt)
        backend = self.backends.get(question.backend)
        model = question.model or backend.default_model
        sources, withheld = await self._retrieved(question, template)
        retrieval_ms = (time.perf_counter() - started) * 1000
        yield SourcesEvent(sources)

        options = self._options(question, template, backend)
        pieces: list[str] = []
        first_token_ms: float | None = None
        error: LLMError | None = None
        context: ContextReport | None = None
        citations = CitationCheck(len(sources))
        mode = template.catalog_answers if sources else "off"
        facts, lead = await asyncio.to_thread(self._lead, question, sources) if mode != "off" else ([], "")
        quoted = ""  # what the sources say in their own words; shown once the backend answers
        if not lead and template.quote_passage and sources:
            quoted = await asyncio.to_thread(quoted_passage, self.retriever.kb.embedder, question.text, sources)
        if (lead or quoted) and backend.style == "completion":  # a base model adds to that paragraph
            options = replace(options, stop=(*options.stop, "\n"))  # not a list it makes up

        def shown_whole(text: str) -> TokenEvent:
            """A paragraph of the catalog's or the sources' own words, shown whole, its citations checked."""
            nonlocal first_token_ms
            first_token_ms = (time.perf_counter() - started) * 1000
            pieces.append(citations.feed(text) + citations.finish())
            return TokenEvent(pieces[-1])

        if lead:  # the catalog's own answer, exactly, before any model text
            yield shown_whole(lead)
        try:  # a prompt that cannot fit the window fails like the backend would
            if not (mode == "only" and facts):
                rendered, context = await self.fit(question, template, sources, options, lead or quoted)
                separator = "\n\n" if (lead or quoted) and backend.style == "chat" else ""
                async for piece in backend.stream(rendered, model, options):
                    if quoted:  # held until now: a backend that is down fails the question as before
                        yield shown_whole(quoted)
                        quoted = ""
                    shown = citations.feed(piece)
                    if not shown:
                        continue
                    if first_token_ms is None:
                        first_token_ms = (time.perf_counter() - started) * 1000
                    shown, separator = separator + shown, ""
                    pieces.append(shown)
                    yield TokenEvent(shown)
                if quoted:  # the backend answered, with nothing to add
                    yield shown_whole(quoted)
                if tail := citations.finish():
                    pieces.append(tail)
                    yield TokenEvent(tail)
        except LLMError as failure:
            error = failure
            log.warning("answer failed: %s", failure.message)
            yield ErrorEvent(failure.code, failure.message, error=failure)
        record = {
            "answer_id": uuid.uuid4().hex,
            "question": question.text,
            "answer": "".join(pieces).strip(),
            "complete": error is None,
            "error": {"code": error.code, "message": error.message} if error else None,
            "sources": [{**source.to_dict(), "cited": n in citations.used} for n, source in enumerate(sources, 1)],
            "citations": citations.record(),
            "catalog_facts": [fact.to_dict() for fact in facts],
            "prompt": self.prompts.stamp(template),
            "backend": backend.name,
            "backend_type": backend.type,
            "model": model,
            "entity_scope": question.entity,
            "context": context.to_dict() if context else None,
            "timings": {
                "retrieval_ms": round(retrieval_ms, 1),
                "first_token_ms": round(first_token_ms, 1) if first_token_ms is not None else None,
                "total_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        }
        if question.reader is not None:  # how many of the best sources the asker may not read; never which
            record["withheld"] = withheld
        if self.observers:
            await asyncio.to_thread(self._notify, record)
        yield DoneEvent(record)

    def _lead(self, question: Question, sources: list[Source]) -> tuple[list[CatalogFact], str]:
        return catalog_lead(
            self.retriever, question.text, question.history, sources, self.links_base_url, question.reader
        )

    def _notify(self, record: dict[str, Any]) -> None:
        """An observer that fails (say the feedback database is down) is logged; the answer still goes out."""
        for observer in self.observers:
            try:
                observer(record)
            except Exception as error:
                log.warning("answer observer %s failed: %s", getattr(observer, "__qualname__", observer), error)
