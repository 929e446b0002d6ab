"""System prompts as files in `prompts/`: YAML front matter plus a Jinja2 body with `system` and `user` blocks.

A template renders to chat messages: the system block, then the conversation so far, then the user block,
where the retrieved sources and the question are quoted as data between delimiters.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import jinja2
import jinja2.meta
import yaml

from assistant.errors import PromptError, UnknownPrompt

log = logging.getLogger(__name__)

KNOWN_VARIABLES = {"question", "sources", "facts", "entity_scope", "history", "catalog", "catalog_answer"}
# `catalog_answers` in the front matter: how an answer the catalog graph gives is used. `lead`: stated first,
# exactly, then the model adds what the sources say; `only`: stated, no model call; `off`: the model alone.
CATALOG_ANSWER_MODES = ("lead", "only", "off")
REQUIRED_BLOCKS = ("system", "user")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_DELIMITER_TAG = re.compile(r"</?\s*(context|source|question|facts|catalog)\b[^>]*>", re.IGNORECASE)


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
    uses_definitions: bool = False  # quotes `source.definition`: API definitions are fetched for it
    temperature: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    catalog_answers: str = "lead"
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
    mode = meta.get("catalog_answers", "lead")
    catalog_answers = "off" if mode is False else str(mode)  # YAML reads a bare `off` as false
    if catalog_answers not in CATALOG_ANSWER_MODES:
        line = next((n + 1 for n, row in enumerate(text.splitlines()) if row.startswith("catalog_answers")), 2)
        raise PromptError(f"{file}:{line}: catalog_answers must be one of {', '.join(CATALOG_ANSWER_MODES)}")
    return PromptTemplate(
        name=str(meta["name"]),
        version=str(meta["version"]),
        description=str(meta["description"]).strip(),
        variables=tuple(sorted(used)),
        file=file,
        content_hash=hashlib.sha256(text.encode()).hexdigest()[:16],
        retrieval="sources" in used or "facts" in used,
        uses_definitions=bool(re.search(r"\.definition\b", source)),
        temperature=meta.get("temperature"),
        max_tokens=meta.get("max_tokens"),
        stop=tuple(str(s) for s in (stop if isinstance(stop, list) else [stop])),
        catalog_answers=catalog_answers,
        body=template,
    )


def git_commit(directory: Path) -> str | None:
    """The last commit that touched `directory`, when it is part of a git checkout."""
    try:
        result = subprocess.run(
            ["git", "-C", str(directory), "log", "-1", "--format=%H", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None


def check_directory(directory: Path) -> list[PromptError]:
    """Every problem of every template in `directory` (not just the first), for `assistant prompts check`."""
    if not directory.is_dir():
        return [PromptError(f"{directory}: not a folder")]
    problems: list[PromptError] = []
    names: dict[str, Path] = {}
    env = _environment()
    for file in sorted(directory.glob("*.md")):
        try:
            template = load_template(file, env)
        except PromptError as error:
            problems.append(error)
            continue
        if template.name in names:
            problems.append(
                PromptError(f"{file}:2: name '{template.name}' is already used by {names[template.name].name}")
            )
        names.setdefault(template.name, file)
    if not names and not problems:
        problems.append(PromptError(f"{directory}: no templates (*.md)"))
    return problems


class PromptLibrary:
    """All templates of a folder, by name, reloaded when their files change.

    A template whose file becomes invalid keeps being served in its last good version, and the reason
    is logged; so a bad edit can never take an answer path down.
    """

    def __init__(self, directory: Path, reload_interval: float = 1.0) -> None:
        if not directory.is_dir():
            raise PromptError(f"ASSISTANT_PROMPTS_DIR: {directory} is not a folder")
        self.directory = directory
        self.reload_interval = reload_interval
        self._env = _environment()
        self._by_file: dict[Path, PromptTemplate] = {}
        self._stamps: dict[Path, tuple[float, int]] = {}
        self._templates: dict[str, PromptTemplate] = {}
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.commit: str | None = None
        self.problems: list[str] = []
        self._reload()

    def _maybe_reload(self) -> None:
        if self.reload_interval >= 0 and time.monotonic() - self._checked_at >= self.reload_interval:
            self._reload()

    def _reload(self) -> None:
        with self._lock:
            self._checked_at = time.monotonic()
            files = sorted(self.directory.glob("*.md"))
            stamps = {}
            for file in files:
                with contextlib.suppress(OSError):
                    info = file.stat()
                    stamps[file] = (info.st_mtime, info.st_size)
            if stamps == self._stamps:
                return
            problems = []
            for file, stamp in stamps.items():
                if self._stamps.get(file) == stamp and file in self._by_file:
                    continue
                try:
                    reloaded = file in self._by_file
                    self._by_file[file] = load_template(file, self._env)
                    log.log(
                        logging.INFO if reloaded else logging.DEBUG,
                        "prompt template %s loaded from %s",
                        self._by_file[file].name,
                        file.name,
                    )
                except (PromptError, OSError) as error:
                    kept = " (its last good version stays in use)" if file in self._by_file else ""
                    problems.append(f"{error}{kept}")
                    log.error("prompt template not loaded: %s%s", error, kept)
            for gone in set(self._by_file) - set(stamps):
                del self._by_file[gone]
            templates: dict[str, PromptTemplate] = {}
            for file in sorted(self._by_file):
                template = self._by_file[file]
                if template.name in templates:
                    problems.append(f"{file}: name '{template.name}' is already used; ignored")
                    continue
                templates[template.name] = template
            self._templates, self._stamps, self.problems = templates, stamps, problems
            self.commit = git_commit(self.directory)

    def names(self) -> list[str]:
        self._maybe_reload()
        return sorted(self._templates)

    def templates(self) -> list[PromptTemplate]:
        return [self._templates[name] for name in self.names()]

    def get(self, name: str) -> PromptTemplate:
        self._maybe_reload()
        try:
            return self._templates[name]
        except KeyError:
            raise UnknownPrompt(f"no prompt template '{name}'; choose one of: {', '.join(self.names())}") from None

    def stamp(self, template: PromptTemplate) -> dict[str, Any]:
        """What an answer records about its prompt: name, version, content hash, and the git commit."""
        info = template.info()
        if self.commit:
            info["commit"] = self.commit
        return info

    def render(
        self,
        name: str,
        question: str,
        sources: Sequence[dict[str, Any]] = (),
        history: Sequence[ChatMessage] = (),
        facts: Sequence[str] = (),
        entity_scope: str | None = None,
        catalog: dict[str, list[str]] | None = None,
        extra_system: str | None = None,
        catalog_answer: str = "",
    ) -> RenderedPrompt:
        template = self.get(name)
        source_fields = dict.fromkeys(("entity", "title", "page", "section", "url", "text", "definition"))
        variables = {
            "question": question,
            "sources": [{**source_fields, **s} for s in sources],
            "facts": list(facts),
            "entity_scope": entity_scope,
            "catalog": catalog or {},
            "history": [{"role": m["role"], "content": m["content"]} for m in history],
            "catalog_answer": catalog_answer,
        }
        context = template.body.new_context(variables)

        def block(name: str) -> str:
            try:
                return "".join(template.body.blocks[name](context)).strip()
            except jinja2.TemplateError as error:
                raise PromptError(f"{template.file}: cannot render block {name}: {error}") from None

        system = block("system")
        if extra_system and extra_system.strip():
            # A chat client's own system message: kept, but after ours, so ours still frames the rules.
            system += "\n\nThe user's chat application adds these instructions:\n" + extra_system.strip()
        messages: list[ChatMessage] = [{"role": "system", "content": system}]
        messages += variables["history"]
        messages.append({"role": "user", "content": block("user")})
        has_completion = "completion" in template.body.blocks
        completion = block("completion") if has_completion else flatten_for_completion(messages)
        return RenderedPrompt(template, messages, completion)
