"""The chat page: a Gradio ChatInterface over the Answerer, with sources under every answer.

Imports only the core (answerer, prompt and backend listings); the app factory mounts it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import gradio as gr

from assistant.answerer import Answerer, DoneEvent, ErrorEvent, Question, SourcesEvent, TokenEvent
from assistant.documents import Source
from assistant.errors import AssistantError
from assistant.llm.registry import BackendRegistry
from assistant.prompts import ChatMessage, PromptLibrary

SOURCES_MARKER = "\n\n---\n**Sources**"
THINKING = "_Looking through the catalog…_"
EXAMPLES = [
    "Who owns the parcel-tracker component?",
    "Which APIs does the billing system provide?",
    "How do I run the parcel tracker locally?",
]
CSS = """
footer { display: none !important; }
.gradio-container { max-width: 100% !important; padding: 8px !important; }
"""


def sources_markdown(sources: Sequence[Source]) -> str:
    """Sources as numbered markdown links; Gradio opens markdown links in a new tab."""
    if not sources:
        return ""
    lines = [f"{number}. [{source.title}]({source.url}) `{source.entity}`" for number, source in enumerate(sources, 1)]
    return SOURCES_MARKER + "\n" + "\n".join(lines)


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
        text = _text(item.get("content")).split(SOURCES_MARKER)[0].strip()
        if role in ("user", "assistant") and text and text != THINKING:
            messages.append({"role": str(role), "content": text})
    return messages


def build_chat_page(answerer: Answerer, prompts: PromptLibrary, backends: BackendRegistry) -> gr.Blocks:
    async def respond(
        message: str, history: list[dict[str, Any]], prompt: str, backend: str, model: str | None
    ) -> AsyncIterator[str]:
        question = Question(
            message, history=history_messages(history), prompt=prompt, backend=backend, model=model or None
        )
        answer, sources_md = "", ""
        try:
            async for event in answerer.answer(question):
                if isinstance(event, SourcesEvent):
                    sources_md = sources_markdown(event.sources)
                    yield THINKING + sources_md
                elif isinstance(event, TokenEvent):
                    answer += event.text
                    yield answer + sources_md
                elif isinstance(event, ErrorEvent):
                    answer += f"\n\n> ⚠️ {event.message}"
                    yield answer + sources_md
                elif isinstance(event, DoneEvent) and not answer.strip():
                    yield "_The model returned no answer._" + sources_md
        except AssistantError as error:
            yield f"> ⚠️ {error.message}"

    prompt_picker = gr.Dropdown(
        choices=[(f"{t.name}: {t.description}", t.name) for t in prompts.templates()],
        value=answerer.default_prompt,
        label="Prompt",
    )
    backend_picker = gr.Dropdown(choices=backends.names(), value=backends.default, label="Backend")
    default_model = backends.get().default_model
    model_picker = gr.Dropdown(choices=[default_model], value=default_model, label="Model", allow_custom_value=True)

    async def models_of(backend: str) -> Any:
        """The chosen backend's models; its default model when the server cannot list them."""
        chosen = backends.get(backend)
        try:
            names = await chosen.models()
        except Exception:  # a backend that is down still keeps its configured default
            names = []
        choices = list(dict.fromkeys([chosen.default_model, *names]))
        return gr.Dropdown(choices=choices, value=chosen.default_model)

    page = gr.ChatInterface(
        respond,
        additional_inputs=[prompt_picker, backend_picker, model_picker],
        additional_inputs_accordion=gr.Accordion("Settings", open=False),
        examples=[[example, answerer.default_prompt, backends.default, default_model] for example in EXAMPLES],
        title="Backstage Assistant",
        description="Ask about the software catalog and TechDocs. Sources open in a new tab.",
        chatbot=gr.Chatbot(
            height="70vh", buttons=["copy"], render_markdown=True, feedback_options=None, show_label=False
        ),
        fill_height=True,
        flagging_mode="never",
        api_name="chat",
        api_visibility="undocumented",
    )
    with page:
        backend_picker.change(models_of, inputs=backend_picker, outputs=model_picker, api_visibility="private")
    return page
