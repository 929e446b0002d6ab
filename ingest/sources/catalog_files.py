"""Loading Backstage catalog YAML files: multi-document files, Location targets, `$text` substitutions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from ingest.entities import entity_ref, validate_entity
from ingest.sources.base import SourceError

log = logging.getLogger(__name__)

YAML_SUFFIXES = {".yaml", ".yml"}
_SKIP_DIRS = {"node_modules", "site", "dist", "build", "__pycache__"}
_CATALOG_MARKER = "backstage.io/"


@dataclass
class LoadedEntity:
    entity: dict[str, Any]
    file: Path


def _parse(file: Path, explicit: bool) -> list[Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(f"{file}: cannot read ({error})") from None
    if not explicit and _CATALOG_MARKER not in text:
        return []  # some other YAML in a walked folder: not ours to judge
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else str(file)
        reason = getattr(error, "problem", None) or str(error)
        raise SourceError(f"{where}: malformed YAML: {reason}") from None


def _local_file_for_url(url: str, root: Path) -> Path | None:
    """Offline stand-in for a URL: the longest tail of its path that exists under `root`.

    Catalogs point `$text` at their own repository (`https://host/org/repo/blob/main/spec.yaml`); when the
    repository is what is being ingested, the file is right there.
    """
    parts = [part for part in urlparse(url).path.split("/") if part]
    for start in range(len(parts)):
        candidate = root.joinpath(*parts[start:])
        if candidate.is_file():
            return candidate
    return None


def _substitute(value: Any, base: Path, root: Path) -> Any:
    """Resolve `$text`, `$yaml` and `$json` placeholders as Backstage's catalog processor does."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("$text", "$yaml", "$json"):
            target = str(next(iter(value.values())))
            if target.startswith(("http://", "https://")):
                path = _local_file_for_url(target, root)
                if path is None:
                    return f"(definition published at {target})"
            else:
                path = (base / target).resolve()
            try:
                return path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise SourceError(f"{base}: cannot read {target} ({error})") from None
        return {key: _substitute(item, base, root) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, base, root) for item in value]
    return value


class CatalogFiles:
    """Entities from catalog files under `root`, following Location targets that point at local files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen_files: set[Path] = set()
        self.entities: dict[str, LoadedEntity] = {}
        self.skipped: list[str] = []

    def load(self) -> dict[str, LoadedEntity]:
        if self.root.is_file():
            self._load_file(self.root.resolve(), explicit=True)
        elif self.root.is_dir():
            for file in sorted(self._walk(self.root)):
                self._load_file(file.resolve(), explicit=False)
        else:
            raise SourceError(f"{self.root}: no such file or folder")
        return self.entities

    def _walk(self, folder: Path) -> list[Path]:
        files = []
        for path in folder.rglob("*"):
            relative = path.relative_to(folder).parts
            if any(part.startswith(".") or part in _SKIP_DIRS for part in relative[:-1]):
                continue
            if path.suffix in YAML_SUFFIXES and path.is_file() and not path.name.startswith("mkdocs."):
                files.append(path)
        return files

    def _load_file(self, file: Path, explicit: bool) -> None:
        if file in self._seen_files:
            return
        self._seen_files.add(file)
        root = self.root if self.root.is_dir() else self.root.parent
        for document in _parse(file, explicit):
            problem = validate_entity(document)
            if problem:
                if explicit or _CATALOG_MARKER in str(
                    document.get("apiVersion", "") if isinstance(document, dict) else ""
                ):
                    self.skipped.append(f"{file}: skipped a document that {problem}")
                continue
            entity = _substitute(document, file.parent, root.resolve())
            ref = str(entity_ref(entity))
            if ref in self.entities:
                self.skipped.append(f"{file}: {ref} is also defined in {self.entities[ref].file}; kept the first")
                continue
            self.entities[ref] = LoadedEntity(entity, file)
            if entity["kind"].lower() == "location":
                self._follow(entity, file)

    def _follow(self, location: dict[str, Any], file: Path) -> None:
        spec = location.get("spec") or {}
        targets = list(spec.get("targets") or []) + ([spec["target"]] if spec.get("target") else [])
        if spec.get("type") not in (None, "file"):
            return  # url locations are read by Backstage, not from disk
        for target in targets:
            target = str(target)
            if target.startswith(("http://", "https://")):
                continue
            matches = (
                sorted(file.parent.glob(target))
                if any(c in target for c in "*?[")
                else [(file.parent / target).resolve()]
            )
            if not matches or not all(path.is_file() for path in matches):
                raise SourceError(f"{file}: Location target {target} does not exist")
            for path in matches:
                self._load_file(path.resolve(), explicit=True)
