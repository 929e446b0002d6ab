"""Asks Backstage which entities a user may read: `POST /api/catalog/entities/by-refs` with the user's token.

Backstage's catalog applies its permission policy to the caller and answers `null` for every ref the caller
may not read (and for refs it does not know). Answers are cached per user token for a short time
(`ASSISTANT_PERMISSIONS_CACHE_SECONDS`), so a conversation does not ask again for every question, and a
change of policy or group membership shows within that time.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from typing import Protocol

import httpx
from cachetools import TTLCache

from assistant.permissions.errors import REJECTED, PermissionCheckFailed, TokenRejected

BY_REFS = "/api/catalog/entities/by-refs"
BATCH = 500  # refs per request
MAX_CACHED = 100_000  # (user, ref) answers kept at most
FIELDS = ["kind", "metadata.namespace", "metadata.name"]  # enough to say it is there; keeps answers small


class ReadChecker(Protocol):
    def readable(self, token: str, refs: Iterable[str]) -> set[str]: ...


class BackstageReadChecker:
    """Thread-safe: retrieval calls it from worker threads."""

    def __init__(
        self,
        backstage_url: str,
        cache_seconds: float = 30,
        timeout: float = 10,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = backstage_url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)
        ttl = max(cache_seconds, 1e-9)  # 0: every answer is asked for again
        self._answers: TTLCache[tuple[str, str], bool] = TTLCache(maxsize=MAX_CACHED, ttl=ttl)
        self._accepted: TTLCache[str, bool] = TTLCache(maxsize=MAX_CACHED // 10, ttl=ttl)
        self._lock = threading.Lock()

    def readable(self, token: str, refs: Iterable[str]) -> set[str]:
        """The refs among `refs` the token's user may read; `TokenRejected` if Backstage refuses the token."""
        user = hashlib.sha256(token.encode()).hexdigest()  # the cache never holds the token itself
        wanted = list(dict.fromkeys(ref for ref in refs if ref))
        with self._lock:
            known = {ref: self._answers.get((user, ref.casefold())) for ref in wanted}
            accepted = user in self._accepted
        unknown = [ref for ref, answer in known.items() if answer is None]
        if unknown or not accepted:
            answers = self._ask(token, unknown)
            with self._lock:
                self._accepted[user] = True
                for ref, answer in answers.items():
                    self._answers[(user, ref.casefold())] = answer
            known.update(answers)
        return {ref for ref in wanted if known.get(ref)}

    def _ask(self, token: str, refs: list[str]) -> dict[str, bool]:
        answers: dict[str, bool] = {}
        for start in range(0, max(len(refs), 1), BATCH):  # an empty batch still checks the token
            batch = refs[start : start + BATCH]
            items = self._by_refs(token, batch)
            answers.update({ref: item is not None for ref, item in zip(batch, items, strict=False)})
        return answers

    def _by_refs(self, token: str, refs: list[str]) -> list[object]:
        try:
            response = self._http.post(
                BY_REFS, json={"entityRefs": refs, "fields": FIELDS}, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            raise PermissionCheckFailed(
                f"cannot ask Backstage at {self.url} what you may read ({error}); nothing is answered until it can "
                "(ASSISTANT_BACKSTAGE_URL)"
            ) from None
        if response.status_code in (401, 403):
            raise TokenRejected(REJECTED)
        if response.status_code != 200:
            raise PermissionCheckFailed(
                f"Backstage at {self.url} answered {response.status_code} when asked what you may read; "
                "nothing is answered until it can"
            )
        try:
            items = response.json()["items"]
        except (ValueError, KeyError, TypeError):
            raise PermissionCheckFailed(f"Backstage at {self.url} gave an unreadable by-refs answer") from None
        if not isinstance(items, list) or len(items) != len(refs):
            raise PermissionCheckFailed(f"Backstage at {self.url} did not answer for each of {len(refs)} refs")
        return items
