"""The request-scoped reader: who is asking, and a way to learn which entities they may read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.permissions.checker import ReadChecker


@dataclass(frozen=True)
class Reader:
    token: str = field(repr=False)
    checker: ReadChecker = field(repr=False)

    def readable(self, refs: Iterable[str]) -> set[str]:
        """The refs among `refs` this user may read (as given); raises if Backstage refuses the token."""
        return self.checker.readable(self.token, refs)

    def verify(self) -> None:
        """Raise `TokenRejected` unless Backstage accepts the token."""
        self.checker.readable(self.token, ())
