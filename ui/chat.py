"""The chat page Backchat shows in its iframe: a Gradio ChatInterface over the Answerer.

Imports only the core (answerer, prompt and backend listings); the app factory mounts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answerer import Answerer, DoneEvent, ErrorEvent, Question, SourcesEvent, TokenEvent
from assistant.errors import AssistantError
from assistant.feedback import Feedback
from assistant.links import cited_numbers, sources_markdown, strip_sources
from assistant.llm.registry import BackendRegistry
from assistant.permissions import ReadChecker, Reader, TokenMissing
from assistant.prompt_templates import ChatMessage
from assistant.prompts import PromptLibrary
from ui.feedback import AnswerIds, FeedbackWidgets, answer_index
from ui.sign_in import SIGN_IN_NEEDED, TOKEN_ELEMENT
from ui.suggestions import FALLBACK, suggested_questions
from ui.theme import CSS, backstage_theme

HEAD = (Path(__file__).parent / "static" / "head.html").read_text(encoding="utf-8")
THINKING = "_Looking through the catalog…_"
GREETING = (
    "**Hi! I know this portal's software catalog and TechDocs.** Ask who owns what, how services fit "
    "together, or how to do something the docs describe. Every answer lists its sources."
)

__all__ = ["CSS", "HEAD", "backstage_theme", "build_chat_page"]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or "")
    return ""


def history_messages(history: Sequence[dict[str, Any]]) -> list[ChatMessage]:
    """The conversation as the pipeline wants it: our own sources lists and notices left out."""
    messages: list[ChatMessage] = []
    for item in history:
        role = item.get("role")
        text = strip_sources(_text(item.get("content"))).strip()
        if role in ("user", "assistant") and text and text != THINKING:
            messages.append({"role": str(role), "content": text})
    return messages


def entity_scope(request: gr.Request | None) -> str | None:
    """`?entity=kind:namespace/name`, as a Backstage entity page embeds the assistant about itself."""
    if request is None:
        return None
    value = (request.query_params.get("entity") or "").strip()
    return value or None


async def reader_for(checker: ReadChecker | None, token: str) -> Reader | None:
    """The asker in `backstage` permission mode (None in `off`); raises with what to do when not signed in."""
    if checker is None:
        return None
    if not token.strip():
        raise TokenMissing(SIGN_IN_NEEDED)
    reader = Reader(token.strip(), checker)
    await asyncio.to_thread(reader.verify)
    return reader


def build_chat_page(
    answerer: Answerer,
    prompts: PromptLibrary,
    backends: BackendRegistry,
    feedback: Feedback | None = None,
    checker: ReadChecker | None = None,
) -> gr.Blocks:
    async def respond(
        message: str,
        history: list[dict[str, Any]],
        prompt: str,
        backend: str,
        model: str | None,
        answer_ids: AnswerIds,
        request: gr.Request,
        token: str = "",  # the user's Backstage token, filled in by the page (`backstage` permission mode)
    ) -> AsyncIterator[tuple[str, AnswerIds]]:
        """Streams the answer; once it is done, remembers its answer_id under the message's index."""
        answer_ids = dict(answer_ids or {})
        async for text, record in _stream(message, history, prompt, backend, model, token, request):
            if record is not None:
                answer_ids[answer_index(history)] = record["answer_id"]
            yield text, answer_ids

    async def _stream(
        message: str,
        history: list[dict[str, Any]],
        prompt: str,
        backend: str,
        model: str | None,
        token: str,
        request: gr.Request,
    ) -> AsyncIterator[tuple[str, dict[str, Any] | None]]:
        question = Question(
            message,
            history=history_messages(history),
            prompt=prompt,
            backend=backend,
            model=model or None,
            entity=entity_scope(request),
        )
        answer, sources_md = "", ""
        sources: list[Any] = []
        try:
            question.reader = await reader_for(checker, token)
            async for event in answerer.answer(question):
                if isinstance(event, SourcesEvent):
                    sources = event.sources
                    sources_md = sources_markdown(sources, with_entities=True)
                    yield THINKING + sources_md, None
                elif isinstance(event, TokenEvent):
                    answer += event.text
                    yield answer + sources_md, None
                elif isinstance(event, ErrorEvent):
                    # Shown inline; the conversation and the sources stay.
                    answer += f"\n\n> ⚠️ {event.message}"
                    yield answer + sources_md, None
                elif isinstance(event, DoneEvent):
                    shown = answer if answer.strip() else "_The model returned no answer._"
                    if event.record.get("sources"):  # now that the answer is known, mark what it cites
                        sources_md = sources_markdown(sources, with_entities=True, cited=cited_numbers(event.record))
                    yield shown + sources_md, event.record
        except AssistantError as error:
            yield f"> ⚠️ {error.message}", None

    default_model = backends.get().default_model

    async def models_of(backend: str) -> Any:
        """The chosen backend's models; its default model when the server cannot list them."""
        chosen = backends.get(backend)
        try:
            names = await chosen.models()
        except Exception:  # a backend that is down still keeps its configured default
            names = []
        return gr.Dropdown(choices=list(dict.fromkeys([chosen.default_model, *names])), value=chosen.default_model)

    def scope_note(request: gr.Request) -> Any:
        entity = entity_scope(request)
        if not entity:
            return gr.Markdown(visible=False)
        return gr.Markdown(f"Answering about **`{entity}`** and what it relates to.", visible=True)

    with gr.Blocks(title="Backstage Assistant", fill_height=True, fill_width=True) as page:
        with gr.Row(equal_height=True, elem_id="assistant-header"):
            gr.Markdown("## Backstage Assistant\nAnswers from the catalog and TechDocs; sources open in a new tab.")
            new_chat = gr.Button("New chat", size="sm", scale=0, min_width=100, elem_id="assistant-new-chat")
        scope = gr.Markdown(visible=False, elem_id="assistant-scope")
        prompt_picker = gr.Dropdown(
            choices=[(f"{t.name}: {t.description}", t.name) for t in prompts.templates()],
            value=answerer.default_prompt,
            label="Prompt",
            elem_id="assistant-prompt",
            render=False,
        )
        backend_picker = gr.Dropdown(
            choices=backends.names(), value=backends.default, label="Backend", elem_id="assistant-backend", render=False
        )
        model_picker = gr.Dropdown(
            choices=[default_model],
            value=default_model,
            label="Model",
            allow_custom_value=True,
            elem_id="assistant-model",
            render=False,
        )
        answer_ids = gr.State({})
        inputs: list[Any] = [prompt_picker, backend_picker, model_picker, answer_ids]
        if checker is not None:  # rendered (so the page's script can fill it) but never shown
            inputs.append(gr.Textbox(elem_id=TOKEN_ELEMENT, elem_classes=["assistant-hidden"], container=False))
        chat = gr.ChatInterface(
            respond,
            additional_inputs=inputs,
            additional_outputs=[answer_ids],
            additional_inputs_accordion=gr.Accordion("Prompt, backend and model", open=False, render=False),
            # One-element examples show as cards in the empty chat and use the pickers' current values.
            # One page for every user: with permissions on, examples must not name anyone's entities.
            examples=[[question] for question in (FALLBACK if checker else suggested_questions(answerer.retriever))],
            chatbot=gr.Chatbot(
                placeholder=GREETING,
                buttons=["copy"],
                render_markdown=True,
                feedback_options=("Like", "Dislike") if feedback else None,
                show_label=False,
                scale=1,
                elem_id="assistant-chat",
            ),
            fill_height=True,
            flagging_mode="never",
            api_name="chat",
            api_visibility="undocumented",
        )
        backend_picker.change(models_of, inputs=backend_picker, outputs=model_picker, api_visibility="private")
        new_chat.click(
            lambda: ([], [], [], None, {}),
            outputs=[chat.chatbot, chat.chatbot_state, chat.chatbot_value, chat.saved_input, answer_ids],
            api_visibility="private",
            queue=False,
        )
        if feedback is not None:
            widgets = FeedbackWidgets(feedback, answer_ids)
            widgets.attach(chat.chatbot)
            widgets.reset(new_chat.click)
        page.load(scope_note, outputs=scope, api_visibility="private", queue=False)
    return page
