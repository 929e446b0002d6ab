"""The types that cross the seams: what ingest stores (`Document`) and what retrieval returns (`Hit`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

MetadataValue = str | int | float | bool | list[str]

# Chunk kinds, stored as metadata `chunk`: what part of the portal a document came from.
ENTITY = "entity"
DEFINITION = "definition"
TECHDOCS = "techdocs"


@dataclass(frozen=True)
class Document:
    """One piece of text to embed. `id` is stable across ingests, so re-ingesting updates in place.

    `unit` names the part of its source that produced it (a catalog file, an entity's TechDocs site), so a
    part that fails to read keeps its documents; `origin` is where it was defined (file, line), for reports.
    Neither is part of the content hash: moving an entity to another file does not re-embed it.
    """

    id: str
    text: str
    metadata: dict[str, MetadataValue]
    content_hash: str = ""
    unit: str = field(default="", compare=False)
    origin: tuple[str, int | None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", content_hash(self.text, self.metadata))


def content_hash(text: str, metadata: dict[str, Any]) -> str:
    payload = json.dumps({"text": text, "metadata": metadata}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def clean_metadata(metadata: dict[str, Any]) -> dict[str, MetadataValue]:
    """Drop empty values: Chroma accepts neither None nor empty lists."""
    cleaned: dict[str, MetadataValue] = {}
    for key, value in metadata.items():
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, list | tuple):
            cleaned[key] = [str(item) for item in value]
        elif isinstance(value, str | int | float | bool):
            cleaned[key] = value
        else:
            cleaned[key] = str(value)
    return cleaned


@dataclass(frozen=True)
class EntityRef:
    """A catalog entity reference, written as Backstage writes it: `kind:namespace/name`, kind lower-case."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    @classmethod
    def parse(cls, ref: str, default_kind: str | None = None, default_namespace: str = "default") -> EntityRef:
        """Parse `[kind:][namespace/]name` as Backstage does, filling in the defaults for the context."""
        text = ref.strip()
        kind = default_kind
        if ":" in text:
            kind, text = text.split(":", 1)
        namespace = default_namespace
        if "/" in text:
            namespace, text = text.split("/", 1)
        if not kind or not text:
            raise ValueError(f"entity reference {ref!r} needs a kind and a name")
        return cls(kind.strip().lower(), namespace.strip() or "default", text.strip())


@dataclass(frozen=True)
class Hit:
    """One retrieved source: the best chunk of an entity or a TechDocs page, with its score."""

    id: str
    text: str
    metadata: dict[str, MetadataValue]
    score: float
    reason: str = "similar meaning"

    @property
    def entity(self) -> str:
        return str(self.metadata.get("entity", ""))

    @property
    def page(self) -> str | None:
        page = self.metadata.get("page")
        return str(page) if page else None

    @property
    def source_key(self) -> tuple[str, str | None]:
        """What counts once: an entity, or one TechDocs page of an entity."""
        return (self.entity, self.page)

    @property
    def title(self) -> str:
        title = str(self.metadata.get("title") or self.metadata.get("name") or self.entity)
        if self.page:
            page_title = str(self.metadata.get("page_title") or self.page)
            return f"{title} › {page_title}"
        return title


@dataclass(frozen=True)
class Source:
    """A source as answers show it: what it is, where to open it in Backstage, how well it matched."""

    entity: str
    title: str
    url: str
    score: float
    page: str | None = None
    section: str | None = None
    reason: str = ""
    snippet: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"entity": self.entity, "title": self.title, "url": self.url}
        if self.page:
            data["page"] = self.page
        if self.section:
            data["section"] = self.section
        data["score"] = round(self.score, 4)
        data["reason"] = self.reason
        return data
