"""Prompt template files: YAML front matter plus a Jinja2 body with `system` and `user` blocks, parsed and checked.

`load_template` reads one file and says exactly what is wrong with it (file, line, reason); `check_directory`
lists every problem of a folder, for `assistant prompts check` and CI.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import jinja2
import jinja2.meta
import yaml

from assistant.errors import PromptError

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
    quote_passage: bool = False  # quote the sources' best sentence first when the catalog states no answer
    body: jinja2.Template = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "hash": self.content_hash}


def template_environment() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.filters["data"] = quote_data
    return env


def load_template(file: Path, env: jinja2.Environment | None = None) -> PromptTemplate:
    """Parse and check one template file; raise `PromptError` with file, line and reason."""
    env = env or template_environment()
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
    quote_passage = meta.get("quote_passage", False)
    if not isinstance(quote_passage, bool):
        line = next((n + 1 for n, row in enumerate(text.splitlines()) if row.startswith("quote_passage")), 2)
        raise PromptError(f"{file}:{line}: quote_passage must be true or false")
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
        quote_passage=quote_passage,
        body=template,
    )


def check_directory(directory: Path) -> list[PromptError]:
    """Every problem of every template in `directory` (not just the first), for `assistant prompts check`."""
    if not directory.is_dir():
        return [PromptError(f"{directory}: not a folder")]
    problems: list[PromptError] = []
    names: dict[str, Path] = {}
    env = template_environment()
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
