"""Source: catalog YAML and mkdocs TechDocs from a local folder or file.

Units: every catalog file (see `catalog_files`), and every entity's TechDocs site (`techdocs:<ref>`). A site
that fails to read keeps what it stored last time; a site that is not there (no mkdocs.yml, no docs folder)
is skipped and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from assistant.documents import Document
from ingest.entities import entity_documents, entity_metadata
from ingest.problems import NO_DOCS, OUTSIDE_NAV, Problems
from ingest.sources.base import SourceError
from ingest.sources.catalog_files import CatalogFiles, LoadedEntity
from ingest.sources.mkdocs_site import MkDocsSite, find_config, read_site
from ingest.techdocs import page_documents

log = logging.getLogger(__name__)

TECHDOCS_REF = "backstage.io/techdocs-ref"


def techdocs_unit(ref: str) -> str:
    return f"techdocs:{ref}"


class LocalFilesSource:
    """Everything under one path: catalog entities and the TechDocs of entities that have them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"files:{path.resolve()}"
        self.problems = Problems()

    def documents(self) -> Iterator[Document]:
        self.problems = Problems()
        catalog = CatalogFiles(self.path, self.problems)
        try:
            entities = catalog.load()
        except FileNotFoundError as error:
            raise SourceError(str(error)) from None
        root_unit = catalog.unit_of(self.path)
        if self.path.is_file() and root_unit in self.problems.failed_units:
            # The one file given is the whole source: it could not be read at all.
            raise SourceError(next(str(p) for p in self.problems.failed if p.unit == root_unit))
        claimed: set[Path] = set()
        for ref, loaded in entities.items():
            yield from entity_documents(
                loaded.entity, unit=loaded.unit, origin=(catalog.display(loaded.file), loaded.line)
            )
            config = self._docs_config(loaded, catalog)
            if config is not None and config not in claimed:
                claimed.add(config)
                yield from self._site_documents(ref, loaded, config, catalog)
        if not entities and not self.problems.failed and self.path.is_dir() and find_config(self.path):
            raise SourceError(
                f"{self.path}: an mkdocs site with no catalog entity: add a catalog-info.yaml with the "
                f"annotation {TECHDOCS_REF}: dir:. so the docs belong to an entity"
            )

    def _docs_config(self, loaded: LoadedEntity, catalog: CatalogFiles) -> Path | None:
        """The mkdocs config an entity's techdocs-ref points at, when it is on disk."""
        annotations = (loaded.entity.get("metadata") or {}).get("annotations") or {}
        ref = str(annotations.get(TECHDOCS_REF) or "")
        if not ref:
            return None
        where = (catalog.display(loaded.file), loaded.line)
        if ref.startswith("dir:"):
            folder = (loaded.file.parent / ref.removeprefix("dir:")).resolve()
            config = find_config(folder)
            if config is None:
                self.problems.warn(NO_DOCS, f"{TECHDOCS_REF} {ref} has no mkdocs.yml; docs skipped", *where)
            return config
        # url: refs name the entity's repository; when that repository is what we are reading, its mkdocs
        # config sits beside the catalog file.
        config = find_config(loaded.file.parent)
        if config is None:
            self.problems.warn(NO_DOCS, f"TechDocs at {ref} are not on disk; docs skipped", *where)
        return config

    def _site_documents(self, ref: str, loaded: LoadedEntity, config: Path, catalog: CatalogFiles) -> list[Document]:
        """All chunks of one site, or none when any part of it cannot be read (then it keeps its old ones)."""
        unit = techdocs_unit(ref)
        where = catalog.display(config)
        try:
            site = read_site(config)
        except SourceError as error:
            self.problems.fail(unit, str(error), where)
            return []
        if not site.docs_dir.is_dir():
            self.problems.warn(NO_DOCS, f"docs_dir {site.docs_dir.name} does not exist; docs of {ref} skipped", where)
            return []
        metadata = entity_metadata(loaded.entity)
        documents: list[Document] = []
        try:
            for page, title, markdown in site.pages():
                self._check_nav(site, page, where)
                documents += page_documents(metadata, page, title, markdown, unit)
        except SourceError as error:
            self.problems.fail(unit, str(error), where)
            return []
        return documents

    def _check_nav(self, site: MkDocsSite, page: str, where: str) -> None:
        if site.has_nav and f"{page}.md" not in site.nav_titles:
            self.problems.warn(OUTSIDE_NAV, f"page {page}.md is not in the nav; ingested anyway", where)
