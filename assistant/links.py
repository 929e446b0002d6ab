"""Links into Backstage, built at answer time so that changing the Backstage URL needs no re-ingest."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from urllib.parse import quote

from assistant.documents import EntityRef, Hit, Source

SOURCES_HEADING = "\n\n---\n**Sources**\n"


def entity_url(base_url: str, ref: EntityRef) -> str:
    """The entity's page; a software Template opens where it is used, in the scaffolder."""
    if ref.kind == "template":
        return f"{base_url}/create/templates/{quote(ref.namespace)}/{quote(ref.name)}"
    return f"{base_url}/catalog/{quote(ref.namespace)}/{quote(ref.kind)}/{quote(ref.name)}"


def techdocs_url(base_url: str, ref: EntityRef, page: str, anchor: str | None = None) -> str:
    """TechDocs URLs are lower-case `namespace/kind/name`; `index` is the site root."""
    root = f"{base_url}/docs/{quote(ref.namespace.lower())}/{quote(ref.kind)}/{quote(ref.name.lower())}/"
    path = "" if page in ("", "index") else page.removesuffix("/index") + "/"
    fragment = f"#{anchor}" if anchor else ""
    return root + quote(path) + fragment


def source_for(hit: Hit, base_url: str) -> Source:
    """Turn a retrieval hit into the source an answer cites."""
    ref = EntityRef.parse(hit.entity)
    anchor = str(hit.metadata.get("anchor") or "") or None
    url = techdocs_url(base_url, ref, hit.page, anchor) if hit.page else entity_url(base_url, ref)
    section = str(hit.metadata.get("section") or "") or None
    return Source(
        entity=hit.entity,
        title=hit.title,
        url=url,
        score=hit.score,
        page=hit.page,
        section=section,
        reason=hit.reason,
        snippet=hit.text,
    )


def sources_markdown(sources: Sequence[Source], with_entities: bool = False, cited: Collection[int] = ()) -> str:
    """The numbered list of links appended to an answer; chat UIs open markdown links in a new tab. The
    sources the answer cites (by number) are marked."""
    if not sources:
        return ""
    lines = [
        f"{n}. [{source.title}]({source.url})"
        + (f" `{source.entity}`" if with_entities else "")
        + (" · cited" if n in cited else "")
        for n, source in enumerate(sources, 1)
    ]
    return SOURCES_HEADING + "\n".join(lines)


def cited_numbers(record: dict[str, object]) -> list[int]:
    """The source numbers a final record says the answer cites."""
    citations = record.get("citations")
    return list(citations.get("used") or []) if isinstance(citations, dict) else []


def strip_sources(text: str) -> str:
    """An answer without the sources list we appended: not part of the conversation the model should see."""
    return text.split(SOURCES_HEADING)[0].rstrip()
