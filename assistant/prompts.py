"""The prompt library: the templates of `prompts/` by name, reloaded when their files change, rendered to messages.

A template renders to chat messages: the system block, then the conversation so far, then the user block,
where the retrieved sources and the question are quoted as data between delimiters.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from assistant.errors import PromptError, UnknownPrompt
from assistant.prompt_templates import ChatMessage, PromptTemplate, load_template, template_environment

log = logging.getLogger(__name__)


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
        self._env = template_environment()
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
