"""`POST /api/feedback`: a user's rating of one answer, by the `answer_id` of its final record."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import post
from litestar.status_codes import HTTP_200_OK

from assistant.feedback import Feedback
from assistant.web.openapi import NativeError, error_responses, success


class FeedbackRequest(msgspec.Struct, kw_only=True):
    answer_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="`answer_id` of a done record")]
    rating: Literal["up", "down"]
    comment: Annotated[str, msgspec.Meta(description="Why; ASSISTANT_FEEDBACK_MAX_COMMENT_CHARS at most")] | None = None


class FeedbackResult(msgspec.Struct):
    answer_id: str
    rating: str
    prompt: str
    version: str


@post(
    "/api/feedback",
    tags=["feedback"],
    status_code=HTTP_200_OK,
    summary="Rate an answer: up or down, and a comment",
    responses={
        **success(FeedbackResult, "The rating as stored, with the prompt version it judges"),
        **error_responses(NativeError, 400, 404, 413, 422, 503),
    },
)
async def give_feedback(data: FeedbackRequest, feedback: Feedback) -> FeedbackResult:
    """Rating the same answer again replaces its rating; 404 for an unknown `answer_id`, 422 for a bad rating."""
    rated = await feedback.rate(data.answer_id, data.rating, data.comment)
    return FeedbackResult(rated.answer_id, rated.rating, rated.prompt, rated.prompt_version)
