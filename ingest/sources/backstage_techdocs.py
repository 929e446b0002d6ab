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
from ingest.sources.backstage_client import BackstageClient
from ingest.sources.local_files import TECHDOCS_REF
from ingest.techdocs import section_documents


def _clean(text: Any) -> str:
    return str(text or "").replace("¶", "").strip()


def _page_of(location: str) -> tuple[str, str | None]:
    path, _, anchor = location.partition("#")
    page = path.strip("/").removesuffix("/index.html").removesuffix(".html") or "index"
    return page, anchor or None


class BackstageTechDocsSource:
    def __init__(self, client: BackstageClient) -> None:
        self.client = client
        self.name = f"backstage-techdocs:{client.base_url}"
        self.skipped: list[str] = []

    def documents(self) -> Iterator[Document]:
        self.skipped = []
        for entity in self.client.entities([f"metadata.annotations.{TECHDOCS_REF}"]):
            ref = entity_ref(entity)
            site = f"/api/techdocs/static/docs/{ref.namespace.lower()}/{ref.kind}/{ref.name.lower()}"
            path = f"{site}/search/search_index.json"
            index = self.client.get_json(path, missing_ok=True)
            if not isinstance(index, dict) or not isinstance(index.get("docs"), list):
                self.skipped.append(f"{ref}: no published TechDocs")
                continue
            yield from self._site(entity, index["docs"])

    def _site(self, entity: dict[str, Any], entries: list[dict[str, Any]]) -> Iterator[Document]:
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
                chunks = section_documents(metadata, page, page_title, None, None, own, index)
                index += len(chunks)
                yield from chunks
            for anchor, title, text in parts:
                if not text:
                    continue
                section = title if title != page_title else None
                chunks = section_documents(metadata, page, page_title, section, anchor, text, index)
                index += len(chunks)
                yield from chunks
