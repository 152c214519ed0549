"""Durable subscribers: a consumer group each, at least once, in order, deduplicated by position.

Guarantees and why:
- A delivery is acknowledged only after its handler returned (or it was parked), in one atomic
  script with the dedup mark, so a crash before that redelivers it: at least once.
- On start the subscriber first re-reads its own pending entries (id 0), then new ones (`>`).
- Entries at or below the mark (the last settled position) are acknowledged unhandled: a
  rewound group or a re-published entry never runs a handler twice.
- One process consumes a group at a time (a lease, checked by every ack): two consumers would
  split the stream and break both the order and the dedup. Others wait as standbys.
- A handler that keeps failing is retried with backoff, then parked with its error; the
  subscriber moves on, so one bad event never blocks the rest, which stay in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import uuid4

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.eventbus import Event, Handler, RetryPolicy, call_handler
from infrastructure.redis.bus_stream import (
    BLOCK_MS,
    decode_event,
    entry_position,
    position_id,
    raw_envelope,
    reconnect_delay,
)
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.subscriber_store import (
    LeaseLost,
    StreamEntries,
    SubscriberKeys,
    SubscriberStore,
    parked_record,
)

log = logging.getLogger(__name__)
_decode = msgspec.json.Decoder().decode


@dataclass(frozen=True, slots=True)
class DurableOptions:
    """Retry delays before parking, entries per read, lease time, and how long to wait on stop."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    batch: int = 10
    lease_ms: int = 10_000
    block_ms: int = BLOCK_MS
    grace_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """What to deliver to whom: `text` is the name or pattern, `group` None for live ones."""

    text: str
    matches: Callable[[str], bool]
    handler: Handler
    group: str | None = None
    after: int | None = None


class _Stopping(Exception):
    """Closing mid-retry: leave the entry pending (a shutdown is not a handler failure)."""


class DurableSubscription:
    """One named durable subscriber; `start()` runs it until `close()`."""

    def __init__(
        self, redis: Redis, keys: RedisKeys, spec: SubscriptionSpec, options: DurableOptions
    ) -> None:
        if spec.group is None:
            raise ValueError("a durable subscription needs a group name")
        self.name: str = spec.text
        self.group: str | None = spec.group
        self.ready = asyncio.Event()
        self._subscriber = spec.group
        self._store = SubscriberStore(redis, SubscriberKeys(keys, spec.group))
        self._matches, self._handler, self._after = spec.matches, spec.handler, spec.after
        self._options = options
        self._token = uuid4().hex
        self._handled = 0
        self._busy = self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"almanac-subscriber:{self.group}")

    async def close(self) -> None:
        """Let a running handler finish (up to the grace time), then stop and free the lease."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        if self._busy:
            with contextlib.suppress(Exception):  # it is cancelled below either way
                await asyncio.wait_for(asyncio.shield(task), self._options.grace_seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        with contextlib.suppress(RedisError, OSError):
            await self._store.release(self._token)

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                created = await self._store.create_groups(self._after)
                if not created and self._after is not None and not self.ready.is_set():
                    log.info("subscriber %s exists: it resumes, the start is ignored", self.group)
                self.ready.set()  # the group exists: nothing emitted from now on can be missed
                await self._store.acquire(self._token, self._options.lease_ms)
                failures = 0
                await self._while_leased()
            except LeaseLost:
                log.warning("subscriber %s lost its lease; standing by", self.group)
            except Exception as error:  # Redis down, or a bug: never die silently, start over
                delay = reconnect_delay(failures)
                failures += 1
                kind = type(error).__name__
                log.warning("subscriber %s: %s: %s; starting over", self.group, kind, error)
                await asyncio.sleep(delay)

    async def _while_leased(self) -> None:
        consume = asyncio.create_task(self._consume())
        renew = asyncio.create_task(self._store.keep_lease(self._token, self._options.lease_ms))
        try:
            done, _ = await asyncio.wait({consume, renew}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (consume, renew):
                task.cancel()
            await asyncio.gather(consume, renew, return_exceptions=True)
        for task in done:
            task.result()

    async def _consume(self) -> None:
        self._handled = await self._store.handled_position()
        seen = await self._store.last_delivered()
        with contextlib.suppress(_Stopping):
            # First what was delivered to us before a crash and never acknowledged, then new.
            while not self._stopping and await self._read_once("0"):
                pass
            while not self._stopping:
                read = await self._read_once(">")
                if not read:
                    await self._store.wait_for_entries(seen, self._options.block_ms)
                for stream, entries in read:
                    seen[stream] = entries[-1][0]

    async def _read_once(self, cursor: str) -> list[StreamEntries]:
        """One fenced read of both streams; replays first, then events, each in order."""
        read = [
            (stream, entries)
            for stream, entries in await self._store.read(self._token, cursor, self._options.batch)
            if entries
        ]
        for stream, entries in read:
            if stream == self._store.keys.replay:
                for entry_id, fields in entries:
                    await self._replay(entry_id, fields)
            else:
                await self._events(entries)
        return read

    async def _events(self, entries: list[tuple[str, dict[bytes, bytes]]]) -> None:
        skipped: list[str] = []
        for entry_id, fields in entries:
            if self._stopping:
                break  # unsettled entries stay pending and are read again (id 0) next time
            event = decode_event(raw_envelope(fields))
            done = entry_position(entry_id) <= self._handled
            if done or event is None or not self._matches(event.name):
                skipped.append(entry_id)
            else:
                await self._deliver(event, self._store.keys.stream, [*skipped, entry_id])
                skipped = []
        if skipped:  # not ours (or already handled): acknowledge without a handler
            mark = max(self._handled, entry_position(skipped[-1]))
            await self._store.settle(self._token, self._store.keys.stream, skipped, position=mark)
            self._handled = mark

    async def _deliver(
        self, event: Event, stream: str, entry_ids: list[str], earlier_attempts: int = 0
    ) -> None:
        """Run the handler (with retries), then settle at once: ack, move the mark or park."""
        replayed = stream == self._store.keys.replay
        self._busy = True
        try:
            failure = await self._attempt(event)
            park = None
            if failure is not None:
                error, attempts = failure
                record = parked_record(event, error, attempts + earlier_attempts, self._subscriber)
                park = (position_id(event.position), record)
            mark = None if replayed else event.position
            await self._store.settle(
                self._token, stream, entry_ids, position=mark, delete=replayed, park=park
            )
            if mark is not None:
                self._handled = mark
        finally:
            self._busy = False

    async def _replay(self, entry_id: str, fields: dict[bytes, bytes]) -> None:
        """A parked delivery sent back by an operator: run it again, park it again if it fails."""
        replay = self._store.keys.replay
        try:
            record = _decode(fields[b"parked"])
            event = Event.from_envelope(record["envelope"])
        except (KeyError, TypeError, ValueError, msgspec.DecodeError):
            log.error("subscriber %s: dropping unreadable replay entry %s", self.group, entry_id)
            await self._store.settle(self._token, replay, [entry_id], delete=True)
            return
        await self._deliver(event, replay, [entry_id], int(record.get("attempts", 0)))

    async def _attempt(self, event: Event) -> tuple[Exception, int] | None:
        """Run the handler; after a failure wait each retry delay in turn and try again."""
        failure = None
        for attempt, delay in enumerate((0.0, *self._options.retry.delays), start=1):
            if delay:
                if self._stopping:
                    raise _Stopping
                await asyncio.sleep(delay)
            try:
                await call_handler(self._handler, event)
                return None
            except Exception as error:
                failure = (error, attempt)
                log.warning(
                    "subscriber %s: attempt %d failed on %s at position %d: %r",
                    *(self.group, attempt, event.name, event.position, error),
                )
        log.error("subscriber %s parked position %d", self.group, event.position)
        return failure
