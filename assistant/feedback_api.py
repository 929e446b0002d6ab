"""`POST /api/feedback`: a user's rating of one answer, by the `answer_id` of its final record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import post
from litestar.status_codes import HTTP_200_OK

from assistant.feedback import Feedback


@dataclass
class FeedbackRequest:
    answer_id: str
    rating: str  # "up" or "down"; checked by the store, so a wrong one gets a 422 that says what is allowed
    comment: str | None = None


@post("/api/feedback", tags=["feedback"], status_code=HTTP_200_OK, summary="Rate an answer: up or down, and a comment")
async def give_feedback(data: FeedbackRequest, feedback: Feedback) -> dict[str, Any]:
    """Rating the same answer again replaces its rating; 404 for an unknown `answer_id`, 422 for a bad rating."""
    rated = await feedback.rate(data.answer_id, data.rating, data.comment)
    return {
        "answer_id": rated.answer_id,
        "rating": rated.rating,
        "prompt": rated.prompt,
        "version": rated.prompt_version,
    }
