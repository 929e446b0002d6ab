"""TechDocs pages as documents: split by headings, each chunk keeping its page, section and anchor."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from assistant.documents import TECHDOCS, Document, clean_metadata

CHUNK_CHARS = 1_000
_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
_heading_splitter = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
_size_splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_CHARS, chunk_overlap=120)


def slugify(heading: str) -> str:
    """The anchor mkdocs gives a heading (Python-Markdown's toc slugify)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def page_documents(entity_metadata: dict[str, Any], page: str, page_title: str, markdown: str) -> Iterator[Document]:
    """Chunks of one page. Ids are `entity#docs/page/n`, so an edited page replaces its own chunks only."""
    entity = entity_metadata["entity"]
    site_title = entity_metadata.get("title") or entity
    index = 0
    for section in _heading_splitter.split_text(markdown):
        headings = [section.metadata[key] for _, key in _HEADERS if section.metadata.get(key)]
        body = section.page_content.strip()
        if not body:
            continue
        deepest = headings[-1] if headings else None
        # The page's own title heading is the page; deeper headings are its sections.
        section_title = deepest if deepest and deepest != page_title else None
        trail = " › ".join([f"{site_title} docs", page_title, *[h for h in headings if h != page_title]])
        for part in _size_splitter.split_text(body):
            yield Document(
                id=f"{entity}#docs/{page}/{index}",
                text=f"{trail}\n{part}",
                metadata=clean_metadata(
                    {
                        **entity_metadata,
                        "chunk": TECHDOCS,
                        "page": page,
                        "page_title": page_title,
                        "section": section_title,
                        "anchor": slugify(section_title) if section_title else None,
                    }
                ),
            )
            index += 1


def first_heading(markdown: str) -> str | None:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", markdown, re.MULTILINE)
    return match.group(1).strip() if match else None
