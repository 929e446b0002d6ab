"""Rate limits on the answer endpoints, per API key or client address (Litestar's rate-limit middleware).

Off by default (`ASSISTANT_RATE_LIMIT_REQUESTS=0`). A client over its limit gets 429 with `Retry-After`, in
the error shape of the protocol it speaks: the assistant's own, OpenAI's (`/v1`) or Ollama's (`/ollama`).
Only answers are limited: they are what costs model time; health checks, listings and the page are not.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar import Request, Response
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address

from assistant.errors import AssistantError
from assistant.permissions.tokens import api_key
from assistant.settings import Settings

ANSWER_PATHS = frozenset({"/api/chat", "/v1/chat/completions", "/ollama/api/chat"})
CODE = "rate_limit_exceeded"


def _path(request: Request[Any, Any, Any]) -> str:
    """The path without the public prefix the service may be mounted under (`ASSISTANT_ROOT_PATH`)."""
    root = str(request.scope.get("root_path") or "")
    return str(request.scope["path"]).removeprefix(root) or "/"


def identify(settings: Settings) -> Any:
    """A configured API key counts as the client; anything else (no key, a wrong one) counts as its address,
    so that made-up keys cannot each start a fresh allowance."""
    keys = [key.get_secret_value() for key in settings.api_keys]
    permissions_on = settings.permissions == "backstage"  # the key is then in X-Api-Key

    def identifier(request: Request[Any, Any, Any]) -> str:
        token = api_key(request.headers, permissions_on)
        if token and any(hmac.compare_digest(token, key) for key in keys):
            return "key:" + hashlib.sha256(token.encode()).hexdigest()[:16]
        return "address:" + get_remote_address(request)

    return identifier


def is_answer(request: Request[Any, Any, Any]) -> bool:
    return request.method == "POST" and _path(request) in ANSWER_PATHS


def rate_limit_middleware(settings: Settings) -> list[DefineMiddleware]:
    """The middleware to add to the app: none while the limit is off."""
    if not settings.rate_limit_requests:
        return []
    config = RateLimitConfig(
        rate_limit=(settings.rate_limit_period, settings.rate_limit_requests),
        identifier_for_request=identify(settings),
        check_throttle_handler=is_answer,
    )
    return [config.middleware]


class RateLimited(AssistantError):
    """A client over its allowance; every protocol shapes it, with `Retry-After` and the `RateLimit-*` headers."""

    code = CODE
    status = 429

    def __init__(self, message: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self._headers = headers

    def headers(self) -> dict[str, str]:
        return self._headers


def too_many_requests(settings: Settings, shaped: Any) -> Any:
    """The handler of the middleware's 429s: the error as `RateLimited`, then the caller's protocol shape
    (`shaped`, the app's handler that picks the shape by path)."""
    allowance = f"{settings.rate_limit_requests} answers per {settings.rate_limit_period}"

    def handler(request: Request[Any, Any, Any], error: TooManyRequestsException) -> Response[Any]:
        headers = {str(key): str(value) for key, value in (error.headers or {}).items()}
        reset = headers.get("RateLimit-Reset", "")
        retry_after = max(1, int(reset)) if reset.isdigit() else 1
        headers["Retry-After"] = str(retry_after)
        message = (
            f"too many requests: the limit is {allowance} for each API key or client address; retry in {retry_after} s"
        )
        return shaped(request, RateLimited(message, headers))

    return handler
