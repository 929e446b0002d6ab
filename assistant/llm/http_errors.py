"""Mapping of HTTP client failures onto the errors users see; shared by the server backends."""

from __future__ import annotations

import httpx

from assistant.errors import BackendFailed, BackendTimeout, BackendUnreachable, LLMError


def translate_httpx(error: BaseException, where: str, fix: str) -> LLMError | None:
    if isinstance(error, httpx.TimeoutException):
        return BackendTimeout(f"{where} did not answer in time ({type(error).__name__})")
    if isinstance(error, httpx.ConnectError | ConnectionError):
        return BackendUnreachable(f"{where} is not answering; is it running? {fix}")
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError):
        return BackendFailed(f"{where} cut the answer off ({error})")
    if isinstance(error, httpx.HTTPStatusError):
        return BackendFailed(f"{where} answered {error.response.status_code}: {error.response.text[:300]}")
    return None


async def get_json(base_url: str, path: str, headers: dict[str, str], timeout: float) -> object:
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, headers=headers) as client:
        response = await client.get(path)
        response.raise_for_status()
        return response.json()
