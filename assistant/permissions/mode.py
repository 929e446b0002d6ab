"""Which permission mode the service runs in, and the checker it needs."""

from __future__ import annotations

from assistant.permissions.checker import BackstageReadChecker
from assistant.settings import Settings


def permissions_on(settings: Settings) -> bool:
    return settings.permissions == "backstage"


def read_checker(settings: Settings) -> BackstageReadChecker | None:
    """The checker of `backstage` mode; None when everyone sees everything (`off`)."""
    if not permissions_on(settings):
        return None
    return BackstageReadChecker(
        settings.backstage_url,
        cache_seconds=settings.permissions_cache_seconds,
        timeout=settings.backstage_timeout_seconds,
    )
