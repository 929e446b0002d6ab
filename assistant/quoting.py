"""Sources as a prompt template quotes them: best first, within an optional character cap.

The token budget of the backend is applied later, when the prompt is fitted (`context_budget`); the cap
(`max_context_chars`) is only for teams that want a bound of their own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from assistant.documents import Source


def quoted_sources(
    sources: Sequence[Source],
    definition_of: Callable[[str], str] | None,
    max_chars: int | None = None,
) -> list[dict[str, Any]]:
    """Template variables for each source; `definition_of` (given when the template quotes API definitions)
    reassembles an API entity's definition for its record."""
    budget = max_chars or sys.maxsize
    quoted = []
    for source in sources:
        if budget <= 0:
            break
        text = source.snippet[:budget]
        budget -= len(text)
        definition = ""
        if definition_of is not None and source.entity.startswith("api:") and not source.page and budget > 0:
            definition = definition_of(source.entity)[:budget]
            budget -= len(definition)
        quoted.append(
            {
                "entity": source.entity,
                "title": source.title,
                "page": source.page,
                "section": source.section,
                "url": source.url,
                "text": text,
                "definition": definition,
            }
        )
    return quoted
