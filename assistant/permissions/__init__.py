"""Permission-aware answers: with `ASSISTANT_PERMISSIONS=backstage`, every answer only uses what the caller's
Backstage user token may read, as Backstage itself decides (`POST /api/catalog/entities/by-refs`).

Nothing about permissions is stored at ingest; each question asks Backstage (cached briefly per user).
"""

from assistant.permissions.checker import BackstageReadChecker, ReadChecker
from assistant.permissions.errors import PermissionCheckFailed, TokenMissing, TokenRejected
from assistant.permissions.filtering import (
    mentioned_refs,
    readable_catalog,
    readable_catalog_facts,
    readable_facts,
    readable_sources,
    readable_top,
    readable_view,
    redact,
)
from assistant.permissions.mode import read_checker
from assistant.permissions.reader import Reader
from assistant.permissions.tokens import API_KEY_HEADER, user_token

__all__ = [
    "API_KEY_HEADER",
    "BackstageReadChecker",
    "PermissionCheckFailed",
    "ReadChecker",
    "Reader",
    "TokenMissing",
    "TokenRejected",
    "mentioned_refs",
    "read_checker",
    "readable_catalog",
    "readable_catalog_facts",
    "readable_facts",
    "readable_sources",
    "readable_top",
    "readable_view",
    "redact",
    "user_token",
]
