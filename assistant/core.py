"""Builds the core objects from `Settings`: the knowledge base, retriever, prompts, backends, answerer.

Used by both composition roots (the app factory and the CLI); imports neither `ingest` nor `ui`.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answerer import Answerer
from assistant.errors import ConfigError, UnknownPrompt
from assistant.knowledge import KnowledgeBase, open_knowledge_base
from assistant.llm.registry import BackendRegistry
from assistant.permissions import ReadChecker, read_checker
from assistant.prompts import PromptLibrary
from assistant.retrieval import Retriever
from assistant.settings import Settings


@dataclass
class Core:
    settings: Settings
    kb: KnowledgeBase
    retriever: Retriever
    prompts: PromptLibrary
    backends: BackendRegistry
    answerer: Answerer
    read_checker: ReadChecker | None = None  # `backstage` permission mode: asks Backstage who may read what


def build_core(settings: Settings, kb: KnowledgeBase | None = None) -> Core:
    kb = kb or open_knowledge_base(settings)
    retriever = Retriever(kb, refresh_in_background=True)
    prompts = PromptLibrary(settings.prompts_dir)
    try:
        prompts.get(settings.default_prompt)  # fail at start rather than on the first question
    except UnknownPrompt as error:
        raise ConfigError(f"ASSISTANT_DEFAULT_PROMPT: {error.message}") from None
    backends = BackendRegistry.from_settings(settings)
    answerer = Answerer(
        retriever,
        prompts,
        backends,
        links_base_url=settings.links_base_url,
        default_prompt=settings.default_prompt,
        top_k=settings.top_k,
        max_context_chars=settings.max_context_chars,
        max_question_chars=settings.max_question_chars,
        max_history_messages=settings.max_history_messages,
    )
    return Core(settings, kb, retriever, prompts, backends, answerer, read_checker(settings))
