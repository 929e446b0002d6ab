"""The `Source` interface of ingest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from assistant.documents import Document


class SourceError(Exception):
    """A source could not be read completely; the knowledge base must stay as it was for this source."""


class Source(Protocol):
    name: str

    def documents(self) -> Iterator[Document]:
        """Every document of the source; raises `SourceError` when the source cannot be read completely."""
        ...
