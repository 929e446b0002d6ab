"""System prompts as files in `prompts/`: YAML front matter plus a Jinja2 body with `system` and `user` blocks.

A template renders to chat messages: the system block, then the conversation so far, then the user block,
where the retrieved sources and the question are quoted as data between delimiters.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import jinja2
import jinja2.meta
import yaml

from assistant.errors import PromptError, UnknownPrompt

log = logging.getLogger(__name__)

KNOWN_VARIABLES = {"question", "sources", "facts", "entity_scope", "history"}
REQUIRED_BLOCKS = ("system", "user")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_DELIMITER_TAG = re.compile(r"</?\s*(context|source|question|facts)\b[^>]*>", re.IGNORECASE)


class ChatMessage(TypedDict):
    role: str  # system | user | assistant
    content: str


def quote_data(text: Any) -> str:
    """Neutralise our delimiter tags inside quoted data, so retrieved text cannot close its own quote."""
    return _DELIMITER_TAG.sub(lambda match: match.group(0).replace("<", "‹").replace(">", "›"), str(text))


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    description: str
    variables: tuple[str, ...]
    file: Path
    content_hash: str
    retrieval: bool = True
    temperature: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    body: jinja2.Template = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "hash": self.content_hash}


@dataclass(frozen=True)
class RenderedPrompt:
    """The prompt in both shapes: chat messages, and one text for base models that only continue text."""

    template: PromptTemplate
    messages: list[ChatMessage]
    completion: str


def flatten_for_completion(messages: Sequence[ChatMessage]) -> str:
    """A completion prompt from chat messages, for templates without a `completion` block."""
    parts = []
    for message in messages:
        prefix = "Answer: " if message["role"] == "assistant" else ""
        parts.append(prefix + message["content"])
    return "\n\n".join(parts) + "\n\nAnswer:"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.filters["data"] = quote_data
    return env


def load_template(file: Path, env: jinja2.Environment | None = None) -> PromptTemplate:
    """Parse and check one template file; raise `PromptError` with file, line and reason."""
    env = env or _environment()
    text = file.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise PromptError(f"{file}:1: missing YAML front matter between --- lines")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise PromptError(f"{file}:{line}: front matter is not valid YAML: {error}") from None
    if not isinstance(meta, dict):
        raise PromptError(f"{file}:2: front matter must be a mapping")
    for key in ("name", "version", "description"):
        if not meta.get(key):
            raise PromptError(f"{file}:2: front matter needs '{key}'")
    body_offset = text[: match.end()].count("\n")
    source = "\n" * body_offset + text[match.end() :]  # keeps Jinja's line numbers equal to the file's
    try:
        parsed = env.parse(source)
        template = env.from_string(source)
    except jinja2.TemplateSyntaxError as error:
        raise PromptError(f"{file}:{error.lineno}: template syntax error: {error.message}") from None
    missing = [block for block in REQUIRED_BLOCKS if block not in template.blocks]
    if missing:
        raise PromptError(f"{file}: needs blocks {', '.join(missing)} ({{% block system %}}...)")
    used = jinja2.meta.find_undeclared_variables(parsed)
    unknown = sorted(used - KNOWN_VARIABLES)
    if unknown:
        line = next((n + 1 for n, row in enumerate(text.splitlines()) if unknown[0] in row), 1)
        raise PromptError(
            f"{file}:{line}: unknown variable '{unknown[0]}'; templates can use {', '.join(sorted(KNOWN_VARIABLES))}"
        )
    declared = set(meta.get("variables") or [])
    if declared != used:
        raise PromptError(f"{file}:2: 'variables' lists {sorted(declared)} but the body uses {sorted(used)}")
    stop = meta.get("stop") or []
    return PromptTemplate(
        name=str(meta["name"]),
        version=str(meta["version"]),
        description=str(meta["description"]).strip(),
        variables=tuple(sorted(used)),
        file=file,
        content_hash=hashlib.sha256(text.encode()).hexdigest()[:16],
        retrieval="sources" in used or "facts" in used,
        temperature=meta.get("temperature"),
        max_tokens=meta.get("max_tokens"),
        stop=tuple(str(s) for s in (stop if isinstance(stop, list) else [stop])),
        body=template,
    )


class PromptLibrary:
    """All templates of a folder, by name."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._env = _environment()
        self._templates: dict[str, PromptTemplate] = {}
        self.load()

    def load(self) -> None:
        templates: dict[str, PromptTemplate] = {}
        if not self.directory.is_dir():
            raise PromptError(f"ASSISTANT_PROMPTS_DIR: {self.directory} is not a folder")
        for file in sorted(self.directory.glob("*.md")):
            template = load_template(file, self._env)
            if template.name in templates:
                raise PromptError(
                    f"{file}:2: name '{template.name}' is already used by {templates[template.name].file.name}"
                )
            templates[template.name] = template
        self._templates = templates

    def names(self) -> list[str]:
        return sorted(self._templates)

    def templates(self) -> list[PromptTemplate]:
        return [self._templates[name] for name in self.names()]

    def get(self, name: str) -> PromptTemplate:
        try:
            return self._templates[name]
        except KeyError:
            raise UnknownPrompt(f"no prompt template '{name}'; choose one of: {', '.join(self.names())}") from None

    def render(
        self,
        name: str,
        question: str,
        sources: Sequence[dict[str, Any]] = (),
        history: Sequence[ChatMessage] = (),
        facts: Sequence[str] = (),
        entity_scope: str | None = None,
    ) -> RenderedPrompt:
        template = self.get(name)
        source_fields = dict.fromkeys(("entity", "title", "page", "section", "url", "text"))
        variables = {
            "question": question,
            "sources": [{**source_fields, **s} for s in sources],
            "facts": list(facts),
            "entity_scope": entity_scope,
            "history": [{"role": m["role"], "content": m["content"]} for m in history],
        }
        context = template.body.new_context(variables)

        def block(name: str) -> str:
            try:
                return "".join(template.body.blocks[name](context)).strip()
            except jinja2.TemplateError as error:
                raise PromptError(f"{template.file}: cannot render block {name}: {error}") from None

        messages: list[ChatMessage] = [{"role": "system", "content": block("system")}]
        messages += variables["history"]
        messages.append({"role": "user", "content": block("user")})
        has_completion = "completion" in template.body.blocks
        completion = block("completion") if has_completion else flatten_for_completion(messages)
        return RenderedPrompt(template, messages, completion)
