"""Reading Backstage's backend APIs: retries with backoff, a timeout, and errors that name what to fix."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx

from ingest.sources.base import SourceError, SourceUnavailable

log = logging.getLogger(__name__)
RETRIED_STATUS = {429, 500, 502, 503, 504}


class BackstageClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        page_size: int = 200,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.page_size = page_size

    def close(self) -> None:
        self._http.close()

    def get_json(self, path: str, params: list[tuple[str, str]] | None = None, missing_ok: bool = False) -> Any:
        """GET a JSON document; None for a 404 when `missing_ok`. Raises `SourceError` once retries are spent."""
        where = f"Backstage at {self.base_url}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.get(path, params=params)
            except httpx.TimeoutException:
                if last:
                    raise SourceUnavailable(
                        f"{where} did not answer {path} within {self.timeout:g} s ({self.retries} retries)"
                    ) from None
            except httpx.TransportError as error:
                if last:
                    raise SourceUnavailable(
                        f"{where} is not answering ({error}); check ASSISTANT_BACKSTAGE_URL"
                    ) from None
            else:
                if response.status_code in (401, 403):
                    raise SourceUnavailable(
                        f"{where} refused the request ({response.status_code}); set ASSISTANT_BACKSTAGE_TOKEN to a "
                        "static token listed under backend.auth.externalAccess in Backstage's app-config"
                    )
                if response.status_code == 404 and missing_ok:
                    return None
                if response.status_code not in RETRIED_STATUS:
                    if response.is_error:
                        raise SourceError(f"{where} answered {response.status_code} for {path}: {response.text[:200]}")
                    try:
                        return response.json()
                    except ValueError:
                        raise SourceError(f"{where} sent invalid JSON for {path}") from None
                if last:
                    raise SourceError(
                        f"{where} answered {response.status_code} for {path} after {self.retries} retries"
                    )
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    time.sleep(min(float(retry_after), 30.0))
                    continue
            delay = self.backoff * 2**attempt
            log.warning("%s: %s failed (attempt %d); retrying in %.1f s", where, path, attempt + 1, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def entities(self, filters: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every entity matching any of `filters`, page by page (`by-query` with cursor pagination)."""
        first: list[tuple[str, str]] = [("limit", str(self.page_size))]
        first += [("filter", f) for f in filters or []]
        params = first
        while True:
            page = self.get_json("/api/catalog/entities/by-query", params)
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise SourceError(f"Backstage at {self.base_url} sent an unexpected catalog page (no 'items')")
            yield from page["items"]
            cursor = (page.get("pageInfo") or {}).get("nextCursor")
            if not cursor:
                return
            # The cursor carries the filter, not `limit` or `fields`: send those with every page.
            params = [("cursor", cursor), ("limit", str(self.page_size))]
