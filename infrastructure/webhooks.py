"""Signed webhook POSTs, and completion webhooks: the job's URLs hear of every execution's end.

The body is JSON; `X-Almanac-Signature: sha256=<hex>` is the HMAC-SHA256 of the raw body with
ALMANAC_WEBHOOK_SECRET and `X-Almanac-Timestamp` the send time in Unix seconds. Connection
errors, 429 and 5xx are retried with backoff. Completion webhooks are at-least-once: the
follower stores its position only after a batch is delivered, so a receiver dedupes on the
envelope `id` (also sent as `X-Almanac-Delivery`). Each delivery is recorded as an event.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg
import httpx
import msgspec

from application.bus import emit_event
from application.commands import EmitEvent
from application.dependencies import Dependencies
from domain.execution import TERMINAL_EVENTS
from infrastructure.envelope import SYSTEM_SOURCE, envelope
from infrastructure.eventstore.mapper import decode_event
from infrastructure.postgres.log_tailer import EVENTS_TABLE, LogTailer, StoredRow
from infrastructure.postgres.positions import Positions, ThrottledPosition

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Almanac-Signature"
TIMESTAMP_HEADER = "X-Almanac-Timestamp"
SECRET_MISSING = "ALMANAC_WEBHOOK_SECRET is not set: webhooks are signed with it"  # noqa: S105
POSITION_NAME = "webhooks"
TERMINAL_TOPICS = tuple(event.TOPIC for event in TERMINAL_EVENTS)
_encode = msgspec.json.Encoder().encode


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Almanac-Webhooks/1",
        SIGNATURE_HEADER: sign(secret, body),
        TIMESTAMP_HEADER: str(int(time.time())),
    }


def redact_url(url: str) -> str:
    """A URL as events may show it: no credentials, query or fragment (they often hold tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True, slots=True)
class Backoff:
    """`attempts` tries in all; the delay doubles from `base` up to `ceiling` seconds, jittered."""

    attempts: int = 4
    base: float = 0.5
    ceiling: float = 8.0

    def delay(self, attempt: int) -> float:
        full: float = min(self.ceiling, self.base * 2.0 ** (attempt - 1))
        return full / 2 + random.uniform(0, full / 2)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a POST ended: the last HTTP status (None if none came back) and tries used."""

    status: int | None
    attempts: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def post_with_retries(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], backoff: Backoff
) -> Delivery:
    """POST until a final answer: 2xx, a 4xx other than 429, or the tries run out."""
    outcome = Delivery(None, 0, "not sent")
    for attempt in range(1, backoff.attempts + 1):
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:  # refused, reset, timed out: worth another try
            outcome = Delivery(None, attempt, f"{type(error).__name__}: {error}".rstrip(": "))
        else:
            status = response.status_code
            outcome = Delivery(status, attempt, None if 200 <= status < 300 else f"HTTP {status}")
            if status != 429 and status < 500:
                return outcome
        if attempt < backoff.attempts:
            await asyncio.sleep(backoff.delay(attempt))
    return outcome


class CompletionWebhooks:
    """Follows the store's terminal execution events; POSTs each envelope to the job's URLs."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        database_url: str,
        deps: Dependencies,
        secret: str | None,
        *,
        backoff: Backoff | None = None,
        concurrency: int = 16,
        retry_interval: float = 2.0,
        poll_interval: float = 1.0,
    ) -> None:
        self._pool = pool
        self._tailer = LogTailer(
            pool, database_url, batch_size=200, poll_interval=poll_interval, topics=TERMINAL_TOPICS
        )
        self._position = ThrottledPosition(Positions(pool), POSITION_NAME)
        self._deps = deps
        self._secret = secret
        self._backoff = backoff or Backoff(attempts=5, base=1.0, ceiling=30.0)
        self._limit = asyncio.Semaphore(concurrency)
        self._retry_interval = retry_interval

    async def run(self) -> None:
        """Forever; a failed batch (database, bus) is delivered again after a pause."""
        async with httpx.AsyncClient(timeout=10.0) as client:
            while True:
                try:
                    await self._follow(client)
                except Exception as error:  # keep following: at-least-once allows a redo
                    log.warning("completion webhooks paused: %s", error)
                    await asyncio.sleep(self._retry_interval)

    async def _follow(self, client: httpx.AsyncClient) -> None:
        position = await self._position.get()
        async for rows in self._tailer.batches(position):
            webhooks = await self._webhooks_of({row.originator_id for row in rows})
            jobs = [
                self._deliver_to_all(client, row, urls)
                for row in rows
                if (urls := webhooks.get(row.originator_id, ()))
            ]
            await asyncio.gather(*jobs)
            await self._position.advance(rows[-1].position)

    async def _webhooks_of(self, execution_ids: set[UUID]) -> dict[UUID, tuple[str, ...]]:
        """The URLs from each execution's job snapshot (its `execution.requested` event)."""
        rows = await self._pool.fetch(
            f"SELECT originator_id, originator_version, state FROM {EVENTS_TABLE} "
            "WHERE originator_id = ANY($1::uuid[]) AND topic = 'execution.requested'",
            list(execution_ids),
        )
        requested = (decode_event("execution.requested", bytes(r[2]), r[0], r[1]) for r in rows)
        return {event.originator_id: tuple(event.job.webhooks) for event in requested}

    async def _deliver_to_all(
        self, client: httpx.AsyncClient, row: StoredRow, urls: tuple[str, ...]
    ) -> None:
        """One envelope per event, posted to each of its job's URLs."""
        event = row.decode()
        body_doc = envelope(event, row.position)
        await asyncio.gather(*(self._deliver(client, event, body_doc, url) for url in urls))

    async def _deliver(
        self, client: httpx.AsyncClient, event: Any, body_doc: dict[str, Any], url: str
    ) -> None:
        async with self._limit:
            if self._secret is None:
                delivery = Delivery(None, 0, SECRET_MISSING)
            else:
                body = _encode(body_doc)
                headers = signed_headers(self._secret, body)
                headers["X-Almanac-Event"] = body_doc["name"]
                headers["X-Almanac-Delivery"] = body_doc["id"]
                delivery = await post_with_retries(client, url, body, headers, self._backoff)
        await self._record(url, body_doc, event, delivery)

    async def _record(
        self, url: str, body_doc: dict[str, Any], event: Any, delivery: Delivery
    ) -> None:
        payload: dict[str, Any] = {
            "url": redact_url(url),
            "status": delivery.status,
            "attempts": delivery.attempts,
            "event": body_doc["name"],
            "deliveryId": body_doc["id"],
            "executionId": str(event.originator_id),
            "jobId": str(event.job_id),
        }
        if not delivery.ok:
            payload["error"] = delivery.error
            log.warning("webhook %s failed: %s", payload["url"], delivery.error)
        name = "webhook.delivered" if delivery.ok else "webhook.failed"
        await emit_event(EmitEvent(name, payload, SYSTEM_SOURCE), self._deps)
