"""Source: TechDocs published by a running Backstage, read from each site's mkdocs search index.

`search/search_index.json` holds every page twice: whole (`location` without `#`) and split by sections
(`page/#anchor`). Sections are ingested; a page's own entry only when it is shorter than its sections together,
which means it holds the text above the first heading rather than the whole page. Headings carry mkdocs'
`¶` permalink mark, which is stripped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from assistant.documents import Document
from ingest.entities import entity_metadata, entity_ref
from ingest.problems import NO_DOCS, Problems
from ingest.sources.backstage_client import BackstageClient
from ingest.sources.base import SourceError, SourceUnavailable
from ingest.sources.local_files import TECHDOCS_REF, techdocs_unit
from ingest.techdocs import section_documents


def _clean(text: Any) -> str:
    return str(text or "").replace("¶", "").strip()


def _page_of(location: str) -> tuple[str, str | None]:
    path, _, anchor = location.partition("#")
    page = path.strip("/").removesuffix("/index.html").removesuffix(".html") or "index"
    return page, anchor or None


class BackstageTechDocsSource:
    """Each entity's site is a unit: one site failing (a 5xx after retries, invalid JSON) keeps that entity's
    pages as they were; Backstage unreachable or refusing fails the whole source."""

    def __init__(self, client: BackstageClient) -> None:
        self.client = client
        self.name = f"backstage-techdocs:{client.base_url}"
        self.problems = Problems()

    def documents(self) -> Iterator[Document]:
        self.problems = Problems()
        for entity in self.client.entities([f"metadata.annotations.{TECHDOCS_REF}"]):
            ref = entity_ref(entity)
            site = f"/api/techdocs/static/docs/{ref.namespace.lower()}/{ref.kind}/{ref.name.lower()}"
            path = f"{site}/search/search_index.json"
            try:
                index = self.client.get_json(path, missing_ok=True)
            except SourceUnavailable:
                raise
            except SourceError as error:
                self.problems.fail(techdocs_unit(str(ref)), str(error))
                continue
            if index is None:
                self.problems.warn(NO_DOCS, f"{ref}: no published TechDocs; skipped")
                continue
            if not isinstance(index, dict) or not isinstance(index.get("docs"), list):
                self.problems.fail(techdocs_unit(str(ref)), f"{ref}: {path} is not a mkdocs search index")
                continue
            yield from self._site(entity, index["docs"], techdocs_unit(str(ref)))

    def _site(self, entity: dict[str, Any], entries: list[dict[str, Any]], unit: str) -> Iterator[Document]:
        metadata = entity_metadata(entity)
        pages: dict[str, dict[str, Any]] = {}
        sections: dict[str, list[tuple[str, str, str]]] = {}
        for entry in entries:
            page, anchor = _page_of(str(entry.get("location", "")))
            if anchor is None:
                pages[page] = entry
            else:
                sections.setdefault(page, []).append((anchor, _clean(entry.get("title")), _clean(entry.get("text"))))
        for page in sorted(set(pages) | set(sections)):
            page_title = _clean(pages.get(page, {}).get("title")) or page
            parts = sections.get(page, [])
            index = 0
            own = _clean(pages.get(page, {}).get("text"))
            if own and (not parts or len(own) < sum(len(text) for _, _, text in parts)):
                chunks = section_documents(metadata, page, page_title, None, None, own, index, unit)
                index += len(chunks)
                yield from chunks
            for anchor, title, text in parts:
                if not text:
                    continue
                section = title if title != page_title else None
                chunks = section_documents(metadata, page, page_title, section, anchor, text, index, unit)
                index += len(chunks)
                yield from chunks
