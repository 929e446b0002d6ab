"""Source: catalog YAML and mkdocs TechDocs from a local folder or file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from assistant.documents import Document
from ingest.entities import entity_documents, entity_metadata
from ingest.sources.base import SourceError
from ingest.sources.catalog_files import CatalogFiles, LoadedEntity
from ingest.sources.mkdocs_site import find_config, read_site
from ingest.techdocs import page_documents

log = logging.getLogger(__name__)

TECHDOCS_REF = "backstage.io/techdocs-ref"


class LocalFilesSource:
    """Everything under one path: catalog entities and the TechDocs of entities that have them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"files:{path.resolve()}"
        self.skipped: list[str] = []

    def documents(self) -> Iterator[Document]:
        catalog = CatalogFiles(self.path)
        entities = catalog.load()
        self.skipped = list(catalog.skipped)
        claimed: set[Path] = set()
        for loaded in entities.values():
            yield from entity_documents(loaded.entity)
            config = self._docs_config(loaded)
            if config is not None and config not in claimed:
                claimed.add(config)
                yield from self._site_documents(loaded, config)
        if not entities and self.path.is_dir() and find_config(self.path):
            raise SourceError(
                f"{self.path}: an mkdocs site with no catalog entity: add a catalog-info.yaml with the "
                f"annotation {TECHDOCS_REF}: dir:. so the docs belong to an entity"
            )
        for reason in self.skipped:
            log.warning(reason)

    def _docs_config(self, loaded: LoadedEntity) -> Path | None:
        """The mkdocs config an entity's techdocs-ref points at, when it is on disk."""
        annotations = (loaded.entity.get("metadata") or {}).get("annotations") or {}
        ref = str(annotations.get(TECHDOCS_REF) or "")
        if not ref:
            return None
        if ref.startswith("dir:"):
            folder = (loaded.file.parent / ref.removeprefix("dir:")).resolve()
            config = find_config(folder)
            if config is None:
                self.skipped.append(f"{loaded.file}: {TECHDOCS_REF} {ref} has no mkdocs.yml; docs skipped")
            return config
        # url: refs name the entity's repository; when that repository is what we are reading, its mkdocs
        # config sits beside the catalog file.
        config = find_config(loaded.file.parent)
        if config is None:
            self.skipped.append(f"{loaded.file}: TechDocs at {ref} are not on disk; docs skipped")
        return config

    def _site_documents(self, loaded: LoadedEntity, config: Path) -> Iterator[Document]:
        site = read_site(config)
        metadata = entity_metadata(loaded.entity)
        for page, title, markdown in site.pages():
            yield from page_documents(metadata, page, title, markdown)
