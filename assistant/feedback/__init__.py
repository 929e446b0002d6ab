"""Ratings of answers by `answer_id`, kept with the answer's record in a real database."""

from assistant.feedback.service import Feedback
from assistant.feedback.store import RATINGS, FeedbackStore, FeedbackUnavailable, Rated

__all__ = ["RATINGS", "Feedback", "FeedbackStore", "FeedbackUnavailable", "Rated"]
