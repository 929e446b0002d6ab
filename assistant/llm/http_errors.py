"""Mapping of HTTP client failures onto the errors users see; shared by the server backends."""

from __future__ import annotations

import json

import httpx

from assistant.errors import BackendFailed, BackendTimeout, BackendUnreachable, LLMError

_HTTP_PACKAGES = {"httpx", "httpx2", "httpcore", "httpcore2"}


def _transport_names(error: BaseException) -> set[str]:
    """Class names of an HTTP client error, whichever httpx the client library vendors (openai uses httpx2)."""
    return {cls.__name__ for cls in type(error).__mro__ if cls.__module__.split(".")[0] in _HTTP_PACKAGES}


def translate_httpx(error: BaseException, where: str, fix: str) -> LLMError | None:
    names = _transport_names(error)
    if "TimeoutException" in names:
        return BackendTimeout(f"{where} did not answer in time ({type(error).__name__})")
    if "ConnectError" in names or isinstance(error, ConnectionError):
        return BackendUnreachable(f"{where} is not answering; is it running? {fix}")
    if names & {"RemoteProtocolError", "ReadError", "NetworkError"}:
        return BackendFailed(f"{where} cut the answer off ({error})")
    if "HTTPStatusError" in names:
        response = error.response  # type: ignore[attr-defined]
        return BackendFailed(f"{where} answered {response.status_code}: {response.text[:300]}")
    if isinstance(error, json.JSONDecodeError):
        return BackendFailed(f"{where} sent a malformed stream (not JSON: {error.doc[:80]!r})")
    return None


async def get_json(base_url: str, path: str, headers: dict[str, str], timeout: float) -> object:
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, headers=headers) as client:
        response = await client.get(path)
        response.raise_for_status()
        return response.json()


async def probe(base_url: str, path: str, timeout: float) -> int:
    """The HTTP status of a GET: any status means the server is up; connection errors raise."""
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as client:
        return (await client.get(path)).status_code
