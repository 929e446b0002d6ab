"""Who is asking, for the handlers that answer from the catalog (`opt={"reads_catalog": True}`).

In `backstage` permission mode the guard refuses such a request, before its body is read, unless it carries
a Backstage user token that Backstage accepts (401 in the protocol's shape otherwise); the `reader`
dependency then hands the handler the request's reader. In `off` mode neither does anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler

from assistant.permissions import ReadChecker, Reader, TokenMissing, user_token
from assistant.permissions.errors import MISSING
from assistant.web.guards import Guard

READS_CATALOG = {"reads_catalog": True}  # the `opt` of a handler whose answers come from the catalog


def reader_of(headers: Any, checker: ReadChecker | None) -> Reader | None:
    """The request's reader: None when everything is readable (`off`); `TokenMissing` without a token."""
    if checker is None:
        return None
    token = user_token(headers)
    if not token:
        raise TokenMissing(MISSING)
    return Reader(token, checker)


def reader_guard(checker: ReadChecker | None) -> list[Guard]:
    if checker is None:
        return []

    async def require_reader(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if not handler.opt.get("reads_catalog"):
            return
        reader = reader_of(connection.headers, checker)
        assert reader is not None
        await asyncio.to_thread(reader.verify)  # cached: the question itself asks again only for new refs

    return [require_reader]


def reader_dependency(checker: ReadChecker | None) -> dict[str, Provide]:
    """`reader`: the request's `Reader`, or None in `off` mode."""

    def provide(request: Request[Any, Any, Any]) -> Reader | None:
        return reader_of(request.headers, checker)

    provider: Callable[..., Reader | None] = provide
    return {"reader": Provide(provider, sync_to_thread=False)}
