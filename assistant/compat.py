"""What the OpenAI- and Ollama-compatible endpoints share: from a chat client's request to a `Question`.

Chat frontends (Open WebUI, Chatbot UI, Big-AGI, LibreChat) send the whole conversation each time; the last
user message is the question, earlier turns are the history, and a client's own system message is kept
after ours. Model ids name prompt templates: `backstage-assistant` is the default one, `backstage/NAME`
any template, plus configured aliases for clients that insist on a name such as `gpt-3.5-turbo`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answerer import Answerer, AnswerEvent, DoneEvent, ErrorEvent, Question, SourcesEvent, TokenEvent
from assistant.documents import Source
from assistant.errors import InvalidRequest, RequestTooLarge, UnknownModel
from assistant.links import cited_numbers, sources_markdown, strip_sources
from assistant.llm.base import GenerationOptions
from assistant.prompt_templates import ChatMessage
from assistant.prompts import PromptLibrary
from assistant.settings import Settings

MODEL_PREFIX = "backstage/"
# Open WebUI asks the model for a title, tags and follow-ups with messages starting like this.
TASK_MARKER = "### Task:"


def text_of(content: Any) -> str:
    """Message content as text: a string, or OpenAI's list of parts (text parts kept, images dropped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


@dataclass
class ModelCatalog:
    prompts: PromptLibrary
    settings: Settings

    def ids(self) -> list[str]:
        names = [self.settings.model_name] + [MODEL_PREFIX + name for name in self.prompts.names()]
        return names + [alias for alias in self.settings.model_aliases if alias not in names]

    def template_for(self, model: str | None) -> str:
        requested = (model or self.settings.model_name).strip()
        name = requested.removesuffix(":latest")
        if name == self.settings.model_name:
            return self.settings.default_prompt
        if name in self.settings.model_aliases:
            return self.settings.model_aliases[name]
        if name.startswith(MODEL_PREFIX) and name.removeprefix(MODEL_PREFIX) in self.prompts.names():
            return name.removeprefix(MODEL_PREFIX)
        raise UnknownModel(f"no model '{requested}'; available: {', '.join(self.ids())}", field="model")


def question_from_messages(
    messages: Sequence[tuple[str, str]],
    model: str | None,
    catalog: ModelCatalog,
    options: GenerationOptions,
) -> Question:
    """Turn a chat request's `(role, text)` messages into the pipeline's question, within the request limits."""
    settings = catalog.settings
    if not messages:
        raise InvalidRequest("'messages' must be a non-empty list", field="messages")
    if len(messages) > settings.max_messages:
        raise RequestTooLarge(f"{len(messages)} messages; the limit is {settings.max_messages}", field="messages")
    turns: list[ChatMessage] = []
    system_parts: list[str] = []
    total = 0
    for role, text in messages:
        total += len(text)
        if role in ("system", "developer"):
            system_parts.append(text)
        elif role in ("user", "assistant") and text.strip():
            turns.append({"role": role, "content": strip_sources(text) if role == "assistant" else text})
    if total > settings.max_request_chars:
        raise RequestTooLarge(
            f"the messages hold {total} characters; the limit is {settings.max_request_chars}", field="messages"
        )
    if not turns or turns[-1]["role"] != "user":
        raise InvalidRequest("the last message must be the user's question", field="messages")
    question = turns[-1]["content"]
    housekeeping = question.lstrip().startswith(TASK_MARKER)
    prompt = catalog.template_for(model)
    if housekeeping and "general" in catalog.prompts.names():
        prompt = "general"  # a title or tags for the chat: no catalog rules, no retrieval
    return Question(
        question,
        history=turns[:-1],
        prompt=prompt,
        client_system="\n\n".join(part for part in system_parts if part.strip()) or None,
        retrieval=not housekeeping,
        options=options,
    )


async def start_answer(
    answerer: Answerer, question: Question
) -> tuple[list[Source], list[AnswerEvent], AsyncIterator[AnswerEvent]]:
    """Run the pipeline up to its first token, so a backend that fails at once becomes an HTTP error.

    Returns the sources, the events read so far (after the sources), and the rest of the stream.
    """
    answerer.validate(question)
    events = answerer.answer(question)
    sources: list[Source] = []
    buffered: list[AnswerEvent] = []
    async for event in events:
        if isinstance(event, SourcesEvent):
            sources = event.sources
            continue
        if isinstance(event, ErrorEvent) and event.error is not None:
            await events.aclose()
            raise event.error
        buffered.append(event)
        break
    return sources, buffered, events


async def replay(buffered: list[AnswerEvent], rest: AsyncIterator[AnswerEvent]) -> AsyncIterator[AnswerEvent]:
    for event in buffered:
        yield event
    async for event in rest:
        yield event


async def whole_answer(
    buffered: list[AnswerEvent], rest: AsyncIterator[AnswerEvent], sources: Sequence[Source], show_sources: bool
) -> tuple[dict[str, Any], str, int]:
    """For non-streaming requests: the final record, the text to return, and how many pieces streamed."""
    record: dict[str, Any] = {}
    pieces = 0
    async for event in replay(buffered, rest):
        pieces += isinstance(event, TokenEvent)
        if isinstance(event, DoneEvent):
            record = event.record
    content = str(record.get("answer", ""))
    if record.get("error"):
        content += f"\n\n⚠️ {record['error']['message']}"
    if show_sources:
        content += sources_markdown(sources, cited=cited_numbers(record))
    return record, content, pieces
