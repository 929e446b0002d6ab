"""Sources: each reads one kind of place and yields `Document`s; none of them touches Chroma."""

from ingest.sources.base import Source, SourceError

__all__ = ["Source", "SourceError"]
