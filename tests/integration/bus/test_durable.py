"""Durable subscribers: resume after SIGKILL, order, dedup by position, one consumer at a time."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator

import pytest

from application.eventbus import Emitted, Event, RetryPolicy, SubscriberInfo
from infrastructure.redis.bus import RedisEventBus
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.subscriber_admin import RedisSubscriberAdmin
from infrastructure.redis.subscribers import DurableOptions
from interfaces.bootstrap.bus import open_bus
from interfaces.bootstrap.runtime import Runtime
from tests.integration.bus.conftest import SUBSCRIBER_SCRIPT, Child, Relay
from tests.support.waiting import eventually

FAST = DurableOptions(retry=RetryPolicy((0.01,)), lease_ms=1000, batch=10)


async def emit_many(runtime: Runtime, count: int) -> list[Emitted]:
    """Half `user.*` (matching), half `order.placed`, eight at a time."""
    async with open_bus(runtime) as bus:
        gate = asyncio.Semaphore(8)

        async def one(index: int) -> Emitted:
            async with gate:
                name = "user.signed-up" if index % 2 == 0 else "order.placed"
                return await bus.emit(name, {"index": index}, "test")

        return list(await asyncio.gather(*(one(index) for index in range(count))))


async def test_a_durable_subscriber_killed_twice_misses_nothing_and_runs_each_event_once(
    runtime: Runtime, relay: Relay, children: list[Child], keys: RedisKeys
) -> None:
    effects = f"{keys.prefix}:test:audit"

    async def start() -> Child:
        child = await Child.start(
            runtime.settings, str(SUBSCRIBER_SCRIPT), "durable", "audit", "user.*"
        )
        children.append(child)
        await child.wait_for_line("ready")
        return child

    async def handled() -> list[int]:
        return [int(value) for value in await runtime.redis.lrange(effects, 0, -1)]

    child = await start()
    emitting = asyncio.create_task(emit_many(runtime, 600))
    for threshold in (60, 150):
        await eventually(functools.partial(_at_least, handled, threshold))
        child.kill()  # SIGKILL: no chance to ack, release the lease or finish anything
        await child.wait()
        child = await start()
    emitted = await emitting
    expected = [e.position for index, e in enumerate(emitted) if index % 2 == 0]  # user.*
    await eventually(lambda: _covers(handled, expected), timeout=30)

    deliveries = await handled()
    first_seen = list(dict.fromkeys(deliveries))
    assert first_seen == sorted(expected)  # every matching event, in stream order
    # At least once: only a delivery in flight at a kill may run again (effect done, no ack).
    assert len(deliveries) - len(first_seen) <= 2

    # Rewind the group to the start of the stream: every entry comes again, none is re-run.
    child.kill(15)
    assert await child.wait() == 0
    await runtime.redis.xgroup_setid(keys.events, keys.subscriber_group("audit"), "0")
    child = await start()
    last = max(e.position for e in emitted)
    admin = RedisSubscriberAdmin(runtime.redis, keys)
    [info] = await eventually(lambda: _drained(admin, last))
    assert await handled() == deliveries
    assert (info.handled_position, info.pending, info.parked, info.active) == (last, 0, 0, True)


async def _at_least(handled: Callable[[], Awaitable[list[int]]], count: int) -> bool:
    return len(await handled()) >= count


async def _covers(handled: Callable[[], Awaitable[list[int]]], expected: list[int]) -> bool:
    return set(await handled()) >= set(expected)


async def _drained(admin: RedisSubscriberAdmin, last: int) -> list[SubscriberInfo] | None:
    infos = await admin.subscribers("audit")
    done = infos and infos[0].delivered_position == last and infos[0].pending == 0
    return infos if done else None


async def _settled(admin: RedisSubscriberAdmin, name: str) -> list[SubscriberInfo] | None:
    infos = await admin.subscribers(name)
    done = infos and infos[0].parked + infos[0].replaying + infos[0].pending == 0
    return infos if done else None


async def test_only_one_process_consumes_a_group_and_a_standby_takes_over(
    runtime: Runtime, relay: Relay, keys: RedisKeys
) -> None:
    first: list[int] = []
    second: list[int] = []
    async with (
        RedisEventBus.open(runtime.redis, keys, runtime.deps, FAST) as one,
        RedisEventBus.open(runtime.redis, keys, None, FAST) as two,
    ):
        one.on("tick", lambda e: first.append(e.position), group="ticks")
        await one.ready()
        await eventually(lambda: runtime.redis.exists(f"{keys.subscriber_group('ticks')}:lease"))
        two.on("tick", lambda e: second.append(e.position), group="ticks")
        await two.ready()
        early = [(await one.emit("tick", {}, "clock")).position for _ in range(5)]
        await eventually(lambda: first == early)
        await one.stop()  # releases the lease: the standby takes over
        late = [(await one.emit("tick", {}, "clock")).position for _ in range(5)]
        await eventually(lambda: second == late)
    assert first == early


async def test_a_failing_handler_is_retried_then_parked_and_the_rest_keeps_its_order(
    runtime: Runtime, relay: Relay, keys: RedisKeys
) -> None:
    calls: list[tuple[int, bool]] = []
    broken = {"value": True}

    def handle(event: Event) -> None:
        ok = not (event.payload.get("poison") and broken["value"])
        calls.append((event.payload["n"], ok))
        if not ok:
            raise ValueError(f"cannot handle {event.payload['n']}")

    options = DurableOptions(retry=RetryPolicy((0.01, 0.02)), lease_ms=2000)
    admin = RedisSubscriberAdmin(runtime.redis, keys)
    async with open_bus(runtime, options) as bus:
        bus.on("invoice.created", handle, group="billing")
        await bus.ready()
        for n in range(1, 5):
            await bus.emit("invoice.created", {"n": n, "poison": n == 2}, "billing")
        await eventually(lambda: [n for n, ok in calls if ok] == [1, 3, 4])
        [info] = await eventually(lambda: admin.subscribers("billing"))
        assert (info.parked, info.pending) == (1, 0)
        [parked] = info.parked_deliveries
        assert (parked.envelope["payload"]["n"], parked.attempts) == (2, 3)
        assert parked.error == "ValueError: cannot handle 2"
        assert "raise ValueError" in parked.stack

        broken["value"] = False  # the cause is fixed: replay delivers it once
        assert await admin.replay("billing", None) == 1
        await eventually(lambda: (2, True) in calls)
        [info] = await eventually(lambda: _settled(admin, "billing"))
    assert calls == [(1, True), (2, False), (2, False), (2, False), (3, True), (4, True), (2, True)]
    assert (info.parked, info.replaying, info.pending) == (0, 0, 0)


async def test_a_subscriber_that_lost_its_lease_takes_no_more_entries(
    runtime: Runtime, relay: Relay, keys: RedisKeys, subscriber_warnings: list[str]
) -> None:
    handled: list[int] = []
    lease = f"{keys.subscriber_group('fenced')}:lease"
    # A long lease: only the fenced read can notice the theft before the next renewal.
    options = DurableOptions(lease_ms=30_000)
    async with open_bus(runtime, options) as bus:
        bus.on("ping", lambda e: handled.append(e.position), group="fenced")
        await bus.ready()
        first = await bus.emit("ping", {}, "test")
        await eventually(lambda: handled == [first.position])

        await runtime.redis.set(lease, "another-process")  # e.g. we were paused past our lease
        second = await bus.emit("ping", {}, "test")
        await eventually(
            lambda: any("lost its lease" in m for m in subscriber_warnings), timeout=30
        )
        [group] = [
            g
            for g in await runtime.redis.xinfo_groups(keys.events)
            if g["name"].decode() == keys.subscriber_group("fenced")
        ]
        assert group["last-delivered-id"].decode() == f"{first.position}-0"
        assert handled == [first.position]

        await runtime.redis.delete(lease)  # the other holder is gone: we take over again
        await eventually(lambda: handled == [first.position, second.position], timeout=15)


@pytest.fixture
def subscriber_warnings() -> Iterator[list[str]]:
    """Warnings of the subscriber module, caught at its own logger: other tests in the same
    process may reconfigure the root logger, which caplog depends on."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("infrastructure.redis.subscribers")
    handler = Collect(logging.WARNING)
    logger.disabled = False
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)
