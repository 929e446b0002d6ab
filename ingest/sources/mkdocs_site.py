"""Reading an mkdocs site folder (the input of TechDocs): its config, nav titles and markdown pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.sources.base import SourceError
from ingest.techdocs import first_heading

CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")


class _LenientLoader(yaml.SafeLoader):
    """mkdocs configs use tags such as `!!python/name:` or `!ENV`; their values do not matter here."""


_LenientLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def find_config(folder: Path) -> Path | None:
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


@dataclass
class MkDocsSite:
    config_file: Path
    docs_dir: Path
    site_name: str
    nav_titles: dict[str, str] = field(default_factory=dict)
    has_nav: bool = False  # without a nav, mkdocs lists every page itself

    def pages(self) -> Iterator[tuple[str, str, str]]:
        """(page path under docs/ without `.md`, title, markdown) for every page, in a stable order."""
        for path in sorted(self.docs_dir.rglob("*.md")):
            if any(part.startswith(".") for part in path.relative_to(self.docs_dir).parts):
                continue
            relative = path.relative_to(self.docs_dir).as_posix()
            try:
                markdown = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise SourceError(f"{path}: cannot read TechDocs page ({error})") from None
            page = relative.removesuffix(".md")
            title = self.nav_titles.get(relative) or first_heading(markdown) or Path(page).name
            yield page, title, markdown


def _nav_titles(nav: Any, titles: dict[str, str]) -> None:
    """mkdocs nav entries are `title: page.md`, `title: [nested...]` or a bare `page.md`."""
    if isinstance(nav, list):
        for item in nav:
            _nav_titles(item, titles)
    elif isinstance(nav, dict):
        for title, value in nav.items():
            if isinstance(value, str):
                titles[value.strip()] = str(title)
            else:
                _nav_titles(value, titles)


def read_site(config_file: Path) -> MkDocsSite:
    try:
        config = yaml.load(config_file.read_text(encoding="utf-8"), Loader=_LenientLoader) or {}
    except yaml.YAMLError as error:
        raise SourceError(f"{config_file}: not valid YAML: {error}") from None
    if not isinstance(config, dict):
        raise SourceError(f"{config_file}: an mkdocs config must be a mapping")
    docs_dir = config_file.parent / str(config.get("docs_dir") or "docs")
    titles: dict[str, str] = {}
    _nav_titles(config.get("nav") or [], titles)
    name = str(config.get("site_name") or config_file.parent.name)
    return MkDocsSite(config_file, docs_dir, name, titles, has_nav=bool(config.get("nav")))
