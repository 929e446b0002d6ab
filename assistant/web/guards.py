"""Authentication as Litestar guards: Bearer API keys for the client protocols, the admin token for admin.

Guards run before the body is read, and raise errors whose status and code every protocol shapes its way.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from pydantic import SecretStr

from assistant.errors import AdminDisabled, Unauthorized
from assistant.permissions.tokens import api_key

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None] | None]


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return (connection.headers.get("authorization") or "").removeprefix("Bearer ").strip()


def _matches(token: str, keys: Sequence[SecretStr]) -> bool:
    # compare against every key, so the time taken does not say which one nearly matched
    results = [hmac.compare_digest(token.encode(), key.get_secret_value().encode()) for key in keys]
    return any(results)


def api_key_guard(keys: Sequence[SecretStr], permissions_on: bool = False) -> list[Guard]:
    """With keys configured, only `Authorization: Bearer <key>` of one of them gets through; none: open.

    In `backstage` permission mode the bearer token is the user's Backstage token, and the key goes in
    `X-Api-Key`. Handlers with `opt={"public": True}` stay open (Ollama's `/api/version`, which clients probe
    first).
    """
    if not keys:
        return []
    how = "X-Api-Key: <key>" if permissions_on else "Authorization: Bearer <key>"

    def require_api_key(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if handler.opt.get("public"):
            return
        if not _matches(api_key(connection.headers, permissions_on), keys):
            raise Unauthorized(f"missing or wrong API key: send {how}")

    return [require_api_key]


def admin_guard(token: SecretStr | None) -> list[Guard]:
    """Admin endpoints: refused (403) while no admin token is configured, 401 without the right one."""

    def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if token is None:
            raise AdminDisabled("admin ingest is disabled: set ASSISTANT_ADMIN_TOKEN to enable it")
        if not _matches(bearer_token(connection), [token]):
            raise Unauthorized("missing or wrong admin token: send Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>")

    return [require_admin]
