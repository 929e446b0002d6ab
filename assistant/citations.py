"""Checkable citations: every `[n]` in an answer must number one of that answer's sources.

Answers stream, so a citation is held back only while it may still be one (`[`, `[1`); a complete `[n]`
that numbers no source is dropped from the text shown and listed in the final record.
"""

from __future__ import annotations

import re
from typing import Any

# An answer's citation of its n-th source; `assistant.catalog.words` reads past these too
CITATION = re.compile(r" ?\[(\d{1,3})\]")
_OPEN = re.compile(r" ?\[\d{0,3}$")


class CitationCheck:
    def __init__(self, sources: int) -> None:
        self.sources = sources
        self.used: set[int] = set()
        self.unknown: set[int] = set()
        self._pending = ""

    def feed(self, piece: str) -> str:
        """The part of the text so far that can be shown now."""
        text = self._pending + piece
        open_citation = _OPEN.search(text)
        self._pending, text = (
            (text[open_citation.start() :], text[: open_citation.start()]) if open_citation else ("", text)
        )
        return self._checked(text)

    def finish(self) -> str:
        text, self._pending = self._pending, ""
        return self._checked(text)

    def _checked(self, text: str) -> str:
        def keep(match: re.Match[str]) -> str:
            number = int(match.group(1))
            if 1 <= number <= self.sources:
                self.used.add(number)
                return match.group(0)
            self.unknown.add(number)
            return ""

        return CITATION.sub(keep, text)

    def record(self) -> dict[str, Any]:
        return {"used": sorted(self.used), "unknown": sorted(self.unknown)}
