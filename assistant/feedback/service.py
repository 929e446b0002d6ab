"""Rating an answer, as every front door does it: store the rating, count it for /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from assistant.feedback.store import FeedbackStore, Rated

# Told about each rating: (prompt name, rating). The metrics' feedback counter.
RatingObserver = Callable[[str, str], None]


class Feedback:
    def __init__(self, store: FeedbackStore, on_rated: RatingObserver | None = None) -> None:
        self.store = store
        self._on_rated = on_rated

    async def rate(self, answer_id: str, rating: str, comment: str | None = None) -> Rated:
        """Store a rating (the database call runs off the event loop) and count it."""
        rated = await asyncio.to_thread(self.store.rate, answer_id, rating, comment)
        if self._on_rated is not None:
            self._on_rated(rated.prompt, rated.rating)
        return rated

    async def withdraw(self, answer_id: str) -> None:
        await asyncio.to_thread(self.store.withdraw, answer_id)
