"""What a reader is shown: sources they may read, and no names of entities they may not.

Sources follow their entity (a TechDocs page is readable when its entity is). The text and the reasons of a
readable source may still name an unreadable entity ("Depends on: component:default/secret"): such refs are
left out, and a line that would only make sense with them goes. Catalog facts get the same treatment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from assistant.catalog.answers import CatalogFact
from assistant.documents import Source
from assistant.entities import EntityView
from assistant.errors import UnknownEntity
from assistant.permissions.reader import Reader

# Kinds whose refs are looked for in text; the kinds of the candidates themselves are added (custom kinds).
CATALOG_KINDS = frozenset({"component", "api", "resource", "system", "domain", "group", "user", "template", "location"})
_NAME = r"[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9])?"
_REF = re.compile(rf"(?<![\w./:-])([a-z][a-z0-9]*):({_NAME})/({_NAME})(?![\w/-])")
_LIST_LINE = re.compile(r"^(?P<label>[^:\n]{1,40}): (?P<items>.+)$")


def mentioned_refs(text: str, kinds: Iterable[str] = CATALOG_KINDS) -> set[str]:
    """Full entity refs (`kind:namespace/name`) the text names, of the given kinds."""
    wanted = set(kinds)
    return {match.group(0) for match in _REF.finditer(text) if match.group(1) in wanted}


def _named(text: str, hidden: set[str]) -> set[str]:
    """The refs of `hidden` that `text` names (whole refs: `x/a` is not named by `x/a-b`)."""
    return {match.group(0) for match in _REF.finditer(text)} & hidden


def _without(items: str, hidden: set[str]) -> str:
    kept = [item for item in items.split(", ") if item.strip().rstrip(".;") not in hidden]
    return ", ".join(kept)


def redact(text: str, hidden: set[str]) -> str:
    """`text` without the refs in `hidden`: dropped from `Label: a, b` lists, other lines naming them dropped."""
    if not hidden or not _named(text, hidden):
        return text
    lines = []
    for line in text.split("\n"):
        named = _named(line, hidden)
        if not named:
            lines.append(line)
            continue
        listed = _LIST_LINE.match(line)
        if listed and not _named(listed.group("label"), named):
            rest = _without(listed.group("items"), named)
            if rest and not _named(rest, named):
                lines.append(f"{listed.group('label')}: {rest}")
    return "\n".join(lines)


def _redact_reason(reason: str, hidden: set[str]) -> str:
    parts = [part for part in reason.split(" + ") if not _named(part, hidden)]
    return " + ".join(parts) or "related"


def readable_sources(sources: Sequence[Source], reader: Reader) -> tuple[list[Source], list[bool]]:
    """The sources the reader may read, their text and reasons rid of unreadable refs; and, for each source
    given, whether it was kept (one call to Backstage for all of it)."""
    kinds = CATALOG_KINDS | {source.entity.split(":", 1)[0] for source in sources}
    refs = {source.entity for source in sources}
    for source in sources:
        refs |= mentioned_refs(source.snippet, kinds) | mentioned_refs(source.reason, kinds)
    allowed = reader.readable(refs)
    hidden = refs - allowed
    kept = [source.entity in allowed for source in sources]
    shown = [
        replace(source, snippet=redact(source.snippet, hidden), reason=_redact_reason(source.reason, hidden))
        for source, keep in zip(sources, kept, strict=True)
        if keep
    ]
    return shown, kept


# --- catalog facts and the catalog summary ---------------------------------------------------------
# `Retriever.facts` gives one line per entity: "<ref> (<title>): <label> <ref>, <ref>; <label> <ref>". These
# two functions are the only place that knows that shape; point them at structured facts when they come.


def readable_facts(facts: Sequence[str], reader: Reader) -> list[str]:
    """Facts about entities the reader may read, naming only entities the reader may read."""
    if not facts:
        return []
    subjects = [fact.split(" ", 1)[0] for fact in facts]
    refs = set(subjects)
    for fact in facts:
        refs |= mentioned_refs(fact, CATALOG_KINDS | {ref.split(":", 1)[0] for ref in subjects})
    allowed = reader.readable(refs)
    hidden = refs - allowed
    kept = []
    for subject, fact in zip(subjects, facts, strict=True):
        if subject not in allowed:
            continue
        head, sep, body = fact.partition("): ")
        if not sep or not _named(body, hidden):
            kept.append(fact)
            continue
        parts = [kept_part for part in body.split("; ") if (kept_part := _fact_part(part, hidden))]
        kept.append(f"{head}{sep}" + ("; ".join(parts) or "no relations in the catalog"))
    return kept


def _fact_part(part: str, hidden: set[str]) -> str:
    """One `<label> <ref>, <ref>` part without the hidden refs; empty when none is left."""
    first = _REF.search(part)
    if first is None:
        return part
    label, refs = part[: first.start()].rstrip(), part[first.start() :].split(", ")
    shown = [ref for ref in refs if ref not in hidden]
    return f"{label} {', '.join(shown)}" if shown else ""


def readable_catalog(catalog: dict[str, list[str]], reader: Reader) -> dict[str, list[str]]:
    """The catalog summary (groups, users, systems, domains) with only what the reader may read."""
    allowed = reader.readable(ref for refs in catalog.values() for ref in refs)
    return {name: [ref for ref in refs if ref in allowed] for name, refs in catalog.items()}


def readable_view(view: EntityView, reader: Reader) -> EntityView:
    """The entity as `reader` may see it: unknown if they may not read it, no relation to what they may not."""
    refs = {view.ref} | {relation.entity for relation in view.relations} | mentioned_refs(view.text)
    allowed = reader.readable(refs)
    if view.ref not in allowed:  # the same answer as for an entity that does not exist: nothing is revealed
        raise UnknownEntity(f"no entity '{view.ref}' in the knowledge base; search finds refs by name", field="ref")
    return replace(
        view,
        text=redact(view.text, refs - allowed),
        relations=[relation for relation in view.relations if relation.entity in allowed],
    )


# With a reader, retrieval asks for this many times `k` candidates at first, widening until `k` are readable.
OVERFETCH = 3
MAX_CANDIDATES = 200


def readable_top(candidates: Callable[[int], list[Source]], k: int, reader: Reader) -> tuple[list[Source], int]:
    """The best `k` sources the reader may read, from `candidates(n)` (the best `n` overall), and how many of
    the best `k` overall were withheld: more candidates are fetched until `k` are readable or none are left."""
    fetch = min(k * OVERFETCH, MAX_CANDIDATES)
    while True:
        found = candidates(fetch)
        shown, kept = readable_sources(found, reader)
        if len(shown) >= k or len(found) < fetch or fetch >= MAX_CANDIDATES:
            return shown[:k], kept[:k].count(False)
        fetch = min(fetch * 4, MAX_CANDIDATES)


def readable_catalog_facts(facts: Sequence[CatalogFact], reader: Reader) -> list[CatalogFact]:
    """Catalog answers about entities the reader may read, naming only what the reader may read: a
    dependency the reader may not see is left out, not named."""
    refs = (
        {fact.entity for fact in facts}
        | {ref for fact in facts for ref, by in fact.stated_by}
        | {by for fact in facts for _, by in fact.stated_by}
    )
    allowed = reader.readable(ref for ref in refs if ":" in ref)
    kept = []
    for fact in facts:
        if fact.entity not in allowed:
            continue
        visible = tuple((ref, by) for ref, by in fact.stated_by if by in allowed and (ref in allowed or ":" not in ref))
        if fact.refs and not visible:
            continue  # saying "none" would tell that something hidden is there
        refs = tuple(ref for ref, _ in visible)
        kept.append(replace(fact, refs=refs, stated_by=visible, known=fact.known & (allowed | set(refs))))
    return kept
