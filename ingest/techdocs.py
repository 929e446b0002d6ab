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


def section_documents(
    entity_metadata: dict[str, Any],
    page: str,
    page_title: str,
    section: str | None,
    anchor: str | None,
    text: str,
    start: int,
    unit: str = "",
) -> list[Document]:
    """Chunks of one section of a page; ids continue from `start` within the page."""
    entity = entity_metadata["entity"]
    site_title = entity_metadata.get("title") or entity
    trail = " › ".join([f"{site_title} docs", page_title, *([section] if section else [])])
    return [
        Document(
            id=f"{entity}#docs/{page}/{start + n}",
            text=f"{trail}\n{part}",
            metadata=clean_metadata(
                {
                    **entity_metadata,
                    "chunk": TECHDOCS,
                    "page": page,
                    "page_title": page_title,
                    "section": section,
                    "anchor": anchor,
                }
            ),
            unit=unit,
        )
        for n, part in enumerate(_size_splitter.split_text(text))
    ]


def page_documents(
    entity_metadata: dict[str, Any], page: str, page_title: str, markdown: str, unit: str = ""
) -> Iterator[Document]:
    """Chunks of one markdown page. Ids are `entity#docs/page/n`, so an edited page replaces its own chunks only."""
    index = 0
    for section in _heading_splitter.split_text(markdown):
        headings = [section.metadata[key] for _, key in _HEADERS if section.metadata.get(key)]
        body = section.page_content.strip()
        if not body:
            continue
        deepest = headings[-1] if headings else None
        # The page's own title heading is the page; deeper headings are its sections.
        section_title = deepest if deepest and deepest != page_title else None
        extra = [h for h in headings if h != page_title and h != section_title]
        text = ("\n".join(extra) + "\n" + body) if extra else body
        chunks = section_documents(
            entity_metadata,
            page,
            page_title,
            section_title,
            slugify(section_title) if section_title else None,
            text,
            index,
            unit,
        )
        index += len(chunks)
        yield from chunks


def first_heading(markdown: str) -> str | None:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", markdown, re.MULTILINE)
    return match.group(1).strip() if match else None
