"""Why a question cannot be answered in `backstage` mode; each protocol shapes these like any other error."""

from __future__ import annotations

from assistant.errors import AssistantError, Unauthorized


class TokenMissing(Unauthorized):
    code = "backstage_token_required"


class TokenRejected(Unauthorized):
    code = "backstage_token_rejected"


class PermissionCheckFailed(AssistantError):
    """Backstage could not be asked: nothing is answered until it can (never everything instead)."""

    code = "permission_check_failed"
    status = 503


MISSING = (
    "this assistant answers only with what you may read in Backstage: send your Backstage user token as "
    "Authorization: Bearer <token> (Backstage's proxy forwards it with credentials: forward)"
)
REJECTED = "Backstage refused the user token (expired or not valid): sign in to Backstage again and retry"
