"""Loading Backstage catalog YAML files: multi-document files, Location targets, `$text` substitutions.

Each file is a unit: a file that cannot be read, or a Location target that does not exist, is reported and
the rest of the catalog loads, as Backstage itself does. An entity that fails validation is reported with
its file and line and leaves its file *partial*: nothing that file stored before is deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from ingest.entities import entity_ref, validate_entity
from ingest.field_names import misspelling, misspelt_relation_fields
from ingest.problems import DUPLICATE, EMPTY_LOCATION, MISSPELT_FIELD, Problems

log = logging.getLogger(__name__)

YAML_SUFFIXES = {".yaml", ".yml"}
_SKIP_DIRS = {"node_modules", "site", "dist", "build", "__pycache__"}
_CATALOG_MARKER = "backstage.io/"
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


class UnitFailed(Exception):
    """One unit (a file, an entity) cannot be read; the message says why, `line` where."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class LoadedEntity:
    entity: dict[str, Any]
    file: Path
    line: int
    unit: str


def parse_documents(text: str) -> list[tuple[int, Any]]:
    """(first line, value) of every YAML document in `text`; raises `UnitFailed` naming the bad line."""
    loader = _Loader(text)
    documents: list[tuple[int, Any]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            value = loader.construct_document(node)
            if value is not None:
                documents.append((node.start_mark.line + 1, value))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or str(error)
        raise UnitFailed(f"malformed YAML: {reason}", mark.line + 1 if mark is not None else None) from None
    finally:
        loader.dispose()
    return documents


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
                raise UnitFailed(f"cannot read {target} ({error})") from None
        return {key: _substitute(item, base, root) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, base, root) for item in value]
    return value


def _looks_like_catalog(documents: list[tuple[int, Any]]) -> bool:
    """A walked file is a catalog file when any document in it is a Backstage entity; others (Helm values,
    Kubernetes manifests, CI workflows) are not ours to judge."""
    return any(isinstance(doc, dict) and _CATALOG_MARKER in str(doc.get("apiVersion", "")) for _, doc in documents)


class CatalogFiles:
    """Entities from catalog files under `root`, following Location targets that point at local files."""

    def __init__(self, root: Path, problems: Problems | None = None) -> None:
        self.root = root
        self.problems = problems if problems is not None else Problems()
        self._base = (root if root.is_dir() else root.parent).resolve()
        self._seen_files: set[Path] = set()
        self._units: dict[Path, str] = {}
        self.entities: dict[str, LoadedEntity] = {}

    def unit_of(self, file: Path) -> str:
        """A file's unit: its path under the source's root, so the name survives moving the checkout."""
        if file not in self._units:
            resolved = file.resolve()
            try:
                self._units[file] = "file:" + resolved.relative_to(self._base).as_posix()
            except ValueError:
                self._units[file] = "file:" + resolved.as_posix()
        return self._units[file]

    def display(self, file: Path) -> str:
        return self.unit_of(file).removeprefix("file:")

    def load(self) -> dict[str, LoadedEntity]:
        """Every entity that could be read; what could not is in `problems`. Raises `FileNotFoundError` when
        the root itself is missing (the whole source is unreadable)."""
        if self.root.is_file():
            self._load_file(self.root.resolve(), explicit=True)
        elif self.root.is_dir():
            for file in sorted(self._walk(self.root)):
                self._load_file(file.resolve(), explicit=False)
        else:
            raise FileNotFoundError(f"{self.root}: no such file or folder")
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
        unit = self.unit_of(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.problems.fail(unit, f"cannot read ({error})", self.display(file))
            return
        if not explicit and _CATALOG_MARKER not in text:
            return
        try:
            documents = parse_documents(text)
        except UnitFailed as error:
            self.problems.fail(unit, error.message, self.display(file), error.line)
            return
        if not explicit and not _looks_like_catalog(documents):
            return
        for line, document in documents:
            self._load_document(document, file, line, unit)

    def _load_document(self, document: Any, file: Path, line: int, unit: str) -> None:
        where = self.display(file)
        problem = validate_entity(document)
        if problem is None:
            try:
                entity = _substitute(document, file.parent, self._base)
            except UnitFailed as error:
                problem = error.message
        if problem is not None:
            # Which entity this was cannot be known: keep whatever its file stored before.
            self.problems.fail(f"{unit}#{line}", f"entity skipped: {problem}", where, line)
            self.problems.partial.add(unit)
            return
        ref = str(entity_ref(entity))
        first = self.entities.get(ref)
        if first is not None:
            self.problems.warn(
                DUPLICATE,
                f"{ref} is also defined in {self.display(first.file)}:{first.line}; kept that one",
                where,
                line,
            )
            return
        self.entities[ref] = LoadedEntity(entity, file, line, unit)
        for key, meant in misspelt_relation_fields(entity):
            self.problems.warn(MISSPELT_FIELD, f"{ref}: {misspelling(key, meant)}", where, line)
        if entity["kind"].lower() == "location":
            self._follow(entity, file, line)

    def _follow(self, location: dict[str, Any], file: Path, line: int) -> None:
        spec = location.get("spec") or {}
        targets = list(spec.get("targets") or []) + ([spec["target"]] if spec.get("target") else [])
        if spec.get("type") not in (None, "file"):
            return  # url locations are read by Backstage, not from disk
        for target in targets:
            target = str(target)
            if target.startswith(("http://", "https://")):
                continue
            if any(c in target for c in "*?["):
                matches = sorted(path for path in file.parent.glob(target) if path.is_file())
                if not matches:
                    self.problems.warn(
                        EMPTY_LOCATION, f"Location target {target} matches no file", self.display(file), line
                    )
                for path in matches:
                    self._load_file(path.resolve(), explicit=True)
                continue
            path = (file.parent / target).resolve()
            if not path.is_file():
                self.problems.fail(
                    self.unit_of(path), f"Location target {target} does not exist", self.display(file), line
                )
                continue
            self._load_file(path, explicit=True)
