"""Who is asking: the caller's Backstage user token, from the request's headers.

In `backstage` mode `Authorization: Bearer` carries the Backstage user token (Backstage's proxy forwards it
with `credentials: forward`, MCP clients send it as their bearer token); the service's own API keys
(`ASSISTANT_API_KEYS`), when set, move to the `X-Api-Key` header, so a trusted client presents both.
"""

from __future__ import annotations

from collections.abc import Mapping

API_KEY_HEADER = "x-api-key"


def bearer(headers: Mapping[str, str]) -> str:
    """The `Authorization: Bearer` token, or an empty string."""
    value = (headers.get("authorization") or "").strip()
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def user_token(headers: Mapping[str, str]) -> str | None:
    """The Backstage user token the request carries, or None."""
    return bearer(headers) or None


def api_key(headers: Mapping[str, str], permissions_on: bool) -> str:
    """The service API key the request carries: the bearer token, or `X-Api-Key` in `backstage` mode."""
    return (headers.get(API_KEY_HEADER) or "").strip() if permissions_on else bearer(headers)
