"""The event bus on the Redis stream: emit through the store, subscribe live or durably.

    async with RedisEventBus.open(redis, keys, deps) as bus:
        bus.on("user.created", welcome)                      # live, from now
        bus.on_pattern("execution.*", audit, group="audit")  # durable consumer group
        await bus.ready()
        await bus.emit("user.created", {"userId": "123"}, "auth-service")

Emitting stores the event (application.bus.emit_event); the relay alone puts it on the
stream, so no subscriber ever sees an event that is not durable, and every subscriber sees
Almanac's own job.*, execution.* and module.* events beside the modules' ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.bus import emit_event
from application.commands import EmitEvent
from application.dependencies import Dependencies
from application.eventbus import Emitted, Event, Handler, call_handler, validate_subscriber_name
from domain.patterns import EventPattern, validate_event_name
from infrastructure.redis.bus_stream import (
    BLOCK_MS,
    decode_event,
    position_id,
    raw_envelope,
    reconnect_delay,
    stream_tail,
    text,
)
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.subscribers import (
    DurableOptions,
    DurableSubscription,
    SubscriptionSpec,
)

log = logging.getLogger(__name__)
LIVE_BATCH = 200


class BusSubscription(Protocol):
    """A live or durable subscription as the bus runs it; `close()` ends it."""

    name: str
    group: str | None
    ready: asyncio.Event

    def start(self) -> None: ...

    async def close(self) -> None: ...


class LiveSubscription:
    """Follows the stream with its own cursor (XREAD BLOCK); at most once, never stops.

    Each live subscription reads for itself: a slow callback delays only its own events and
    memory stays bounded; the cost is one Redis connection per subscription while it waits.
    A failing callback is logged and the event skipped: use a group for at-least-once.
    """

    def __init__(self, redis: Redis, stream: str, spec: SubscriptionSpec) -> None:
        self.name: str = spec.text
        self.group: str | None = None
        self.ready = asyncio.Event()
        self._redis, self._stream = redis, stream
        self._matches, self._handler = spec.matches, spec.handler
        self._cursor = None if spec.after is None else position_id(spec.after)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"almanac-live:{self.name}")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                if self._cursor is None:
                    self._cursor = await stream_tail(self._redis, self._stream)
                self.ready.set()
                while True:
                    await self._read_once(self._cursor)
                    failures = 0
            except (RedisError, OSError) as error:
                # Resume from our cursor: nothing is lost while the stream still holds it.
                delay = reconnect_delay(failures)
                failures += 1
                log.warning("live subscriber %s: Redis error (%s)", self.name, error)
                await asyncio.sleep(delay)

    async def _read_once(self, cursor: str) -> None:
        reply: Any = await self._redis.xread(
            {self._stream: cursor}, count=LIVE_BATCH, block=BLOCK_MS
        )
        for _stream, entries in reply or ():
            for entry_id, fields in entries:
                self._cursor = text(entry_id)
                event = decode_event(raw_envelope(fields))
                if event is not None and self._matches(event.name):
                    await self._deliver(event)

    async def _deliver(self, event: Event) -> None:
        try:
            await call_handler(self._handler, event)
        except Exception:
            log.exception(
                "live subscriber %s failed on %s at position %d; skipped",
                *(self.name, event.name, event.position),
            )


class RedisEventBus:
    """Implements application.eventbus.EventBus; without `deps` it can subscribe, not emit."""

    def __init__(
        self,
        redis: Redis,
        keys: RedisKeys,
        deps: Dependencies | None = None,
        options: DurableOptions | None = None,
    ) -> None:
        self._redis, self._keys, self._deps = redis, keys, deps
        self._options = options or DurableOptions()
        self._subscriptions: list[BusSubscription] = []
        self._running = False

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        redis: Redis,
        keys: RedisKeys,
        deps: Dependencies | None = None,
        options: DurableOptions | None = None,
    ) -> AsyncIterator[RedisEventBus]:
        bus = cls(redis, keys, deps, options)
        bus.start()
        try:
            yield bus
        finally:
            await bus.stop()

    async def emit(self, name: str, payload: Mapping[str, Any], source: str) -> Emitted:
        """Stored first; subscribers get it once the relay has put it on the stream."""
        if self._deps is None:
            raise RuntimeError("this bus was opened without the event store: it cannot emit")
        outcome = await emit_event(EmitEvent(name, payload, source), self._deps)
        return Emitted(str(outcome.value.id), outcome.position)

    def on(
        self, name: str, handler: Handler, *, group: str | None = None, after: int | None = None
    ) -> BusSubscription:
        """Events named exactly `name`."""
        validate_event_name(name)
        return self._subscribe(SubscriptionSpec(name, name.__eq__, handler, group, after))

    def on_pattern(
        self, pattern: str, handler: Handler, *, group: str | None = None, after: int | None = None
    ) -> BusSubscription:
        """Events whose name matches: `*` one segment, `**` zero or more."""
        matches = EventPattern(pattern).matches
        return self._subscribe(SubscriptionSpec(pattern, matches, handler, group, after))

    def _subscribe(self, spec: SubscriptionSpec) -> BusSubscription:
        subscription: BusSubscription
        if spec.group is None:
            subscription = LiveSubscription(self._redis, self._keys.events, spec)
        else:
            validate_subscriber_name(spec.group)
            if any(existing.group == spec.group for existing in self._subscriptions):
                raise ValueError(f"subscriber {spec.group!r} is already running on this bus")
            subscription = DurableSubscription(self._redis, self._keys, spec, self._options)
        self._subscriptions.append(subscription)
        if self._running:
            subscription.start()
        return subscription

    async def ready(self) -> None:
        """Wait until every subscription is reading: from here on no event is missed."""
        await asyncio.gather(*(s.ready.wait() for s in self._subscriptions))

    def start(self) -> None:
        self._running = True
        for subscription in self._subscriptions:
            subscription.start()

    async def stop(self) -> None:
        """Close every subscription (durable ones finish the delivery in hand first)."""
        self._running = False
        subscriptions, self._subscriptions = self._subscriptions, []
        await asyncio.gather(*(s.close() for s in reversed(subscriptions)))
