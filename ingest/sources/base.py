"""The `Source` interface of ingest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from assistant.documents import Document
from ingest.problems import Problems


class SourceError(Exception):
    """A source could not be read completely; the knowledge base must stay as it was for this source."""


class SourceUnavailable(SourceError):
    """Nothing more can be read from the source (unreachable, refused): no unit of it is worth trying."""


class Source(Protocol):
    name: str
    problems: Problems  # filled by `documents()`: failed units, partial units, warnings

    def documents(self) -> Iterator[Document]:
        """Every document of the source; raises `SourceError` when the source cannot be read completely."""
        ...
