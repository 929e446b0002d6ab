"""What went wrong while reading a source, unit by unit, so that one broken part never blocks the rest.

A *unit* is the smallest part of a source that can fail on its own: one catalog file (or Location target),
one entity's TechDocs site. A failed unit keeps the documents it produced last time; every other unit syncs.
Warnings are data problems that change nothing in the store (a duplicate ref, a dangling relation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Warning kinds, as the report counts them.
DUPLICATE = "duplicate_ref"
DANGLING = "dangling_ref"
NO_DOCS = "techdocs_missing"
OUTSIDE_NAV = "page_outside_nav"
EMPTY_LOCATION = "location_matches_nothing"
INVALID_ENTITY = "invalid_entity"
MISSPELT_FIELD = "misspelt_relation_field"


@dataclass(frozen=True)
class Problem:
    """One failed unit or one warning, with where it is (file and line when there is one)."""

    message: str
    kind: str = "failed"
    unit: str | None = None
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        items = {"message": self.message, "kind": self.kind, "unit": self.unit, "file": self.file, "line": self.line}
        return {key: value for key, value in items.items() if value is not None}

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        return f"{where}: {self.message}" if where else self.message


@dataclass
class Problems:
    """What a source reports after `documents()`: units that failed, units read only in part, and warnings.

    `partial` units were read, but something in them could not be identified (an entity without a name):
    what they produced is stored, and nothing they stored before is deleted.
    """

    failed: list[Problem] = field(default_factory=list)
    partial: set[str] = field(default_factory=set)
    warnings: list[Problem] = field(default_factory=list)

    def fail(self, unit: str, message: str, file: str | None = None, line: int | None = None) -> None:
        self.failed.append(Problem(message, "failed", unit, file, line))

    def warn(self, kind: str, message: str, file: str | None = None, line: int | None = None) -> None:
        self.warnings.append(Problem(message, kind, None, file, line))

    @property
    def failed_units(self) -> set[str]:
        return {problem.unit for problem in self.failed if problem.unit}

    @property
    def protected_units(self) -> set[str]:
        """Units whose stored documents must not be deleted this run."""
        return self.failed_units | self.partial
