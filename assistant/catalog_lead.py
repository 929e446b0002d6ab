"""The catalog's answer as the reader sees it: the entity named, refs as links into Backstage, each fact
cited by the number of the source that states it. It streams before any model text."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from assistant.catalog.answers import CatalogFact
from assistant.documents import EntityRef, Source
from assistant.links import entity_url
from assistant.permissions import Reader, readable_catalog_facts
from assistant.retrieval import Retriever

MAX_LISTED = 10  # a team that owns 200 entities: a count, the first ten, and the catalog filtered to them


def catalog_lead(
    retriever: Retriever,
    question: str,
    history: Sequence[dict[str, str]],
    sources: Sequence[Source],
    base_url: str,
    reader: Reader | None = None,
) -> tuple[list[CatalogFact], str]:
    """The facts the catalog answers the question with (only what `reader` may read), and their text."""
    facts = retriever.catalog_facts(question, history)
    if reader is not None and facts:
        facts = readable_catalog_facts(facts, reader)
    return facts, lead_text(facts, sources, base_url)


def lead_text(facts: Sequence[CatalogFact], sources: Sequence[Source], base_url: str) -> str:
    """Markdown: one sentence a fact. An entity's record that is not among the sources is not cited."""
    records = {source.entity: n for n, source in enumerate(sources, 1) if source.page is None}
    return " ".join(_sentence(fact, records, base_url) for fact in facts)


def _sentence(fact: CatalogFact, records: dict[str, int], base_url: str) -> str:
    subject = f"**{fact.entity}**"
    own = _cite(records, [fact.entity])
    if not fact.refs:
        return f"The catalog names no {fact.verb} for {subject}{own}."
    stated_by_subject = all(by == fact.entity for _, by in fact.stated_by)
    shown = []
    for ref, by in fact.stated_by[:MAX_LISTED]:
        text = _link(ref, base_url) if ref in fact.known and ":" in ref else f"`{ref}`"
        if ":" in ref and ref not in fact.known:
            text += " (not in the catalog)"
        shown.append(text if stated_by_subject else text + _cite(records, [by]))
    listed = ", ".join(shown)
    more = len(fact.stated_by) - MAX_LISTED
    if more > 0:
        listed += f" and {more} more"
        if fact.field == "owner":
            filtered = f"{base_url}/catalog?filters%5Bowners%5D={quote(fact.entity, safe='')}"
            listed += f" ([all {len(fact.stated_by)} in the catalog]({filtered}))"
    return f"{subject} {fact.verb} {listed}{own if stated_by_subject else ''}."


def _link(ref: str, base_url: str) -> str:
    try:
        return f"[{ref}]({entity_url(base_url, EntityRef.parse(ref))})"
    except ValueError:
        return f"`{ref}`"


def _cite(records: dict[str, int], entities: Sequence[str]) -> str:
    numbers = sorted({records[e] for e in entities if e in records})
    return "".join(f" [{n}]" for n in numbers)
