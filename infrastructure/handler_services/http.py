"""`context.services.http`: httpx with timeouts and retries done right.

Connection errors, 429 and 5xx are retried with exponential backoff and full jitter, up to
`retries` times; a `Retry-After` header (seconds or HTTP date) is honoured, capped. Non
idempotent methods are retried only when the request never reached the server.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from typing import Any

import httpx

RETRY_STATUSES = {429, 500, 502, 503, 504}
IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
MAX_RETRY_AFTER = 60.0


class HttpService:
    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        retries: int = 3,
        backoff_base: float = 0.2,
        backoff_max: float = 10.0,
    ) -> None:
        self._client = client or httpx.AsyncClient(timeout=30.0, follow_redirects=True)
        self._retries = retries
        self._base = backoff_base
        self._max = backoff_max

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)

    async def request(
        self, method: str, url: str, *, retries: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        """`timeout` is in seconds (httpx style); `retries` overrides the default per call."""
        limit = self._retries if retries is None else retries
        method = method.upper()
        for attempt in range(limit + 1):
            try:
                response = await self._client.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                # The request never reached the server: safe to retry whatever the method.
                if attempt == limit:
                    raise
                await asyncio.sleep(self._delay(attempt, None))
                continue
            if response.status_code not in RETRY_STATUSES or attempt == limit:
                return response
            if method not in IDEMPOTENT and response.status_code != 429:
                return response
            await asyncio.sleep(self._delay(attempt, response.headers.get("retry-after")))
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self._client.aclose()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        hinted = _retry_after_seconds(retry_after)
        if hinted is not None:
            return min(hinted, MAX_RETRY_AFTER)
        return random.uniform(0, min(self._max, self._base * 2**attempt))


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())
