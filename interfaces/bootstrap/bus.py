"""How a process gets an event bus: from its Runtime (can emit) or from Settings (Redis only).

`open_bus(runtime)` serves the API, workers and modules' services; `open_redis_bus(settings)`
serves `almanac subscribe`, which needs no database.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import TextIO

import msgspec
from redis.asyncio import Redis

from application.eventbus import Event, SubscriberInfo
from infrastructure.redis.bus import RedisEventBus
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.subscriber_admin import RedisSubscriberAdmin
from infrastructure.redis.subscribers import DurableOptions
from infrastructure.settings import Settings
from interfaces.bootstrap.runtime import Runtime, redis_client

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@asynccontextmanager
async def open_bus(
    runtime: Runtime, options: DurableOptions | None = None
) -> AsyncIterator[RedisEventBus]:
    """A bus on the runtime's Redis and event store; subscriptions close on exit."""
    keys = RedisKeys(runtime.settings.redis_prefix)
    async with RedisEventBus.open(runtime.redis, keys, runtime.deps, options) as bus:
        yield bus


@asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    if settings.redis_url is None:
        raise SystemExit("almanac: this command needs REDIS_URL (or REDIS_HOST/REDIS_PORT)")
    redis = redis_client(settings.redis_url)
    try:
        yield redis
    finally:
        await redis.aclose()


@asynccontextmanager
async def open_redis_bus(
    settings: Settings, options: DurableOptions | None = None
) -> AsyncIterator[RedisEventBus]:
    """A subscribe-only bus: Redis, no database."""
    async with (
        open_redis(settings) as redis,
        RedisEventBus.open(redis, RedisKeys(settings.redis_prefix), None, options) as bus,
    ):
        yield bus


async def run_subscribe(
    settings: Settings,
    pattern: str,
    group: str | None,
    after: int | None,
    out: TextIO = sys.stdout,
) -> None:
    """Print matching envelopes as JSON lines until SIGINT/SIGTERM (or the reader goes away)."""
    stop = asyncio.Event()
    printer = _printer(out, stop)
    with _stopped_by_signals(stop):
        # Printing a line takes microseconds: on stop, do not wait long for a blocked pipe.
        async with open_redis_bus(settings, DurableOptions(grace_seconds=1.0)) as bus:
            bus.on_pattern(pattern, printer, group=group, after=after)
            where = f"as subscriber {group!r}" if group else "live"
            announce = asyncio.create_task(_announce(bus, f"following {pattern!r} {where}"))
            await stop.wait()
            announce.cancel()


async def _announce(bus: RedisEventBus, message: str) -> None:
    """Tell the operator (on stderr) once nothing emitted from now on can be missed."""
    await bus.ready()
    log.info("%s; Ctrl-C stops", message)


def _printer(out: TextIO, stop: asyncio.Event) -> Callable[[Event], object]:
    encode = msgspec.json.Encoder().encode

    async def write(event: Event) -> None:
        # One flushed line per event: a durable subscriber acks only after the line is out.
        try:
            out.write(encode(event.envelope()).decode() + "\n")
            out.flush()
        except BrokenPipeError:
            stop.set()  # the reading end is gone: stop, and leave this event unacknowledged
            await asyncio.Event().wait()

    return write


@contextmanager
def _stopped_by_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop`, from the very start (even while Redis is unreachable)."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def list_subscribers(settings: Settings, name: str | None) -> list[SubscriberInfo]:
    async with open_redis(settings) as redis:
        return await RedisSubscriberAdmin(redis, RedisKeys(settings.redis_prefix)).subscribers(name)


async def delete_subscriber(settings: Settings, name: str, *, force: bool) -> bool:
    async with open_redis(settings) as redis:
        admin = RedisSubscriberAdmin(redis, RedisKeys(settings.redis_prefix))
        return await admin.delete(name, force=force)


async def replay_parked(settings: Settings, name: str, entry_ids: Sequence[str] | None) -> int:
    async with open_redis(settings) as redis:
        admin = RedisSubscriberAdmin(redis, RedisKeys(settings.redis_prefix))
        return await admin.replay(name, entry_ids)
