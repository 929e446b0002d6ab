"""Source: the catalog of a running Backstage, through its catalog API."""

from __future__ import annotations

from collections.abc import Iterator

from assistant.documents import Document
from ingest.entities import entity_documents, validate_entity
from ingest.sources.backstage_client import BackstageClient


class BackstageCatalogSource:
    def __init__(self, client: BackstageClient, kinds: list[str] | None = None) -> None:
        self.client = client
        self.kinds = [kind.lower() for kind in kinds or []]
        self.name = f"backstage-catalog:{client.base_url}"
        self.skipped: list[str] = []

    def documents(self) -> Iterator[Document]:
        # No kinds configured: everything but Location, which only says where the catalog came from.
        filters = [f"kind={kind}" for kind in self.kinds] or None
        self.skipped = []
        for entity in self.client.entities(filters):
            problem = validate_entity(entity)
            if problem:
                self.skipped.append(f"catalog entity skipped: {problem}")
                continue
            if not self.kinds and str(entity["kind"]).lower() == "location":
                continue
            yield from entity_documents(entity)
