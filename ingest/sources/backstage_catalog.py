"""Source: the catalog of a running Backstage, through its catalog API."""

from __future__ import annotations

from collections.abc import Iterator

from assistant.documents import Document
from ingest.entities import entity_documents, validate_entity
from ingest.field_names import misspelling, misspelt_relation_fields
from ingest.problems import INVALID_ENTITY, MISSPELT_FIELD, Problems
from ingest.sources.backstage_client import BackstageClient


class BackstageCatalogSource:
    """The whole listing is one unit: a page that fails after retries leaves every stored entity as it was,
    since what is gone cannot be known from a listing read in part."""

    def __init__(self, client: BackstageClient, kinds: list[str] | None = None) -> None:
        self.client = client
        self.kinds = [kind.lower() for kind in kinds or []]
        self.name = f"backstage-catalog:{client.base_url}"
        self.problems = Problems()

    def documents(self) -> Iterator[Document]:
        # No kinds configured: everything but Location, which only says where the catalog came from.
        filters = [f"kind={kind}" for kind in self.kinds] or None
        self.problems = Problems()
        for entity in self.client.entities(filters):
            problem = validate_entity(entity)
            if problem:
                name = ((entity.get("metadata") or {}) if isinstance(entity, dict) else {}).get("name", "?")
                self.problems.warn(INVALID_ENTITY, f"catalog entity {name} skipped: it {problem}")
                continue
            if not self.kinds and str(entity["kind"]).lower() == "location":
                continue
            for key, meant in misspelt_relation_fields(entity):
                name = entity["metadata"]["name"]
                self.problems.warn(MISSPELT_FIELD, f"catalog entity {name}: {misspelling(key, meant)}")
            yield from entity_documents(entity, origin=(f"{self.client.base_url}/catalog", None))
