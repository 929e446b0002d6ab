"""What lets a platform team see how the service does: metrics at /metrics and users' ratings of answers.

Built by the app factory from the core: the answerer tells both about every final record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.di import Provide

from assistant.core import Core
from assistant.feedback import Feedback, FeedbackStore
from assistant.feedback_api import give_feedback
from assistant.metrics import Metrics, read_last_ingest
from assistant.metrics_api import http_metrics_middleware, metrics_endpoint


@dataclass
class Instrumentation:
    metrics: Metrics
    feedback: Feedback
    route_handlers: list[Any] = field(default_factory=list)
    dependencies: dict[str, Provide] = field(default_factory=dict)
    middleware: list[Any] = field(default_factory=list)


def instrument(core: Core) -> Instrumentation:
    settings = core.settings
    metrics = Metrics(core.kb.count, lambda: read_last_ingest(settings.data_dir))
    store = FeedbackStore(
        settings.feedback_url, settings.feedback_max_comment_chars, settings.feedback_keep_unrated_days
    )
    feedback = Feedback(store, metrics.observe_feedback)
    core.answerer.observers.extend([metrics.observe_answer, store.record_answer])
    return Instrumentation(
        metrics,
        feedback,
        route_handlers=[give_feedback, metrics_endpoint],
        dependencies={
            "metrics": Provide(lambda: metrics, sync_to_thread=False),
            "feedback": Provide(lambda: feedback, sync_to_thread=False),
        },
        middleware=[http_metrics_middleware()],
    )
