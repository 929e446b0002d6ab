"""The chat page's part of `backstage` permission mode: getting the user's Backstage token in the browser.

`sign_in_head` is added to the page's <head>; it fills the hidden `TOKEN_ELEMENT` field that each question
carries to the handler.
"""

from __future__ import annotations

import json
from pathlib import Path

TOKEN_ELEMENT = "assistant-user-token"
SIGN_IN_NEEDED = (
    "**Sign in to Backstage to use the assistant.** It answers only with what you may read in Backstage, and "
    "this page could not get your Backstage sign-in: open it from Backstage (through its proxy), signed in."
)
_TEMPLATE = (Path(__file__).parent / "static" / "backstage-sign-in.html").read_text(encoding="utf-8")


def sign_in_head(provider: str, environment: str) -> str:
    """The <head> snippet that asks Backstage's auth backend for the user's token (provider and env checked
    by the settings to be plain names; JSON-escaped again here)."""
    return _TEMPLATE.replace('"__PROVIDER__"', json.dumps(provider)).replace('"__ENV__"', json.dumps(environment))
