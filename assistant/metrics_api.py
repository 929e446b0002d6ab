"""`GET /metrics` in Prometheus' text format, and Litestar's HTTP request metrics beside ours."""

from __future__ import annotations

from litestar import MediaType, Response, get
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import ResponseSpec
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST

from assistant.metrics import Metrics


@get(
    "/metrics",
    tags=["health"],
    summary="Prometheus metrics of this replica",
    sync_to_thread=True,
    media_type=MediaType.TEXT,
    responses={200: ResponseSpec(str, description="Prometheus' text exposition format", media_type=MediaType.TEXT)},
)
def metrics_endpoint(metrics: Metrics) -> Response[bytes]:
    # Synchronous in a worker thread: the scrape counts the knowledge base, which may be a Chroma server.
    # Litestar adds the charset itself.
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST.replace("; charset=utf-8", ""))


def http_metrics_middleware() -> DefineMiddleware:
    """Requests by method, route template and status (`assistant_http_*`); the page's assets count under `/`."""
    return PrometheusConfig(
        app_name="backchat-assistant", prefix="assistant_http", group_path=True, exclude=["/metrics"]
    ).middleware
