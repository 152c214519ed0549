"""Live subscriptions: `on` and `on_pattern`, across processes, from now or from a position."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from application.eventbus import Event
from domain.bus_event import BusEvent
from domain.errors import InvalidValues
from domain.job import Job
from domain.job_definition import JobDefinition
from infrastructure.redis.bus import RedisEventBus
from infrastructure.redis.keys import RedisKeys
from interfaces.bootstrap.bus import open_bus, open_redis_bus
from interfaces.bootstrap.runtime import Runtime
from tests.integration.bus.conftest import SUBSCRIBER_SCRIPT, Child, Relay
from tests.support.waiting import eventually


async def save_job(runtime: Runtime) -> Job:
    """A job of the fixture module `engine`, saved through the store: `job.created`."""
    definition = JobDefinition(
        name=f"bus-{uuid4().hex[:6]}", module_id="engine", handler="jobs/ok.py"
    )
    job = Job.create(uuid4(), definition, enabled=True, actor="test", at=datetime.now(UTC))
    await runtime.store.save(job)
    return job


async def test_on_and_on_pattern_in_another_process_get_exactly_the_matching_events(
    runtime: Runtime, relay: Relay, children: list[Child]
) -> None:
    child = await Child.start(
        runtime.settings, str(SUBSCRIBER_SCRIPT), "live", "user.*", "=user.created", "job.*"
    )
    children.append(child)
    await child.wait_for_line("ready")

    async with open_bus(runtime) as bus:
        sent = [
            await bus.emit("user.created", {"userId": "1"}, "auth-service"),
            await bus.emit("order.placed", {"orderId": "9"}, "shop"),
            await bus.emit("user.deleted", {"userId": "2"}, "auth-service"),
            await bus.emit("user.profile.updated", {"userId": "3"}, "auth-service"),
        ]
        job = await save_job(runtime)
        last = await bus.emit("user.end", {}, "test")

    await child.wait_for_line(f'"position": {last.position}')
    await child.wait_for_line(str(job.id))
    got = [line.split(" ", 1) for line in child.lines if line != "ready"]
    by_subscription: dict[str, list[dict[str, object]]] = {}
    for subscription, body in got:
        by_subscription.setdefault(subscription, []).append(json.loads(body))

    assert [e["name"] for e in by_subscription["user.*"]] == [
        "user.created",
        "user.deleted",
        "user.end",
    ]
    assert [e["position"] for e in by_subscription["user.*"]] == [
        sent[0].position,
        sent[2].position,
        last.position,
    ]
    created = by_subscription["=user.created"]
    assert [(e["id"], e["source"], e["payload"]) for e in created] == [
        (sent[0].id, "auth-service", {"userId": "1"})
    ]
    [job_event] = by_subscription["job.*"]
    assert (job_event["name"], job_event["source"]) == ("job.created", "almanac")
    assert job_event["payload"]["jobId"] == str(job.id)  # type: ignore[index]

    child.kill(15)
    assert await child.wait() == 0


async def test_an_emitted_event_is_stored_before_any_subscriber_can_see_it(
    runtime: Runtime, relay: Relay, keys: RedisKeys
) -> None:
    await relay.stop()
    seen: list[Event] = []
    async with open_bus(runtime) as bus:
        bus.on("user.created", seen.append)
        await bus.ready()
        emitted = await bus.emit("user.created", {"userId": "7"}, "auth-service")

        stored = await runtime.store.load(UUID(emitted.id), BusEvent)
        assert (stored.name, stored.payload) == ("user.created", {"userId": "7"})
        assert await runtime.redis.xlen(keys.events) == 0  # nothing is published but by the relay

        relay.start()
        await eventually(lambda: seen)
    [event] = seen
    assert (event.id, event.position, event.source) == (
        emitted.id,
        emitted.position,
        "auth-service",
    )
    assert event.created_at.tzinfo is not None


async def test_patterns_sync_and_async_callbacks_and_a_failing_callback_does_not_stop_reading(
    runtime: Runtime, relay: Relay
) -> None:
    deep: list[str] = []
    failing: list[str] = []

    async def explode(event: Event) -> None:
        failing.append(event.name)
        raise RuntimeError("callback bug")

    async with open_bus(runtime) as bus:
        bus.on_pattern("shop.**", lambda event: deep.append(event.name))  # sync, in a thread
        bus.on_pattern("shop.*", explode)
        await bus.ready()
        for name in ("shop", "shop.order", "shop.order.paid", "shopping.cart", "shop.refund"):
            await bus.emit(name, {}, "shop")
        await eventually(lambda: len(deep) == 4 and len(failing) == 2)

    assert deep == ["shop", "shop.order", "shop.order.paid", "shop.refund"]
    assert failing == ["shop.order", "shop.refund"]  # the reader went on after the first error


async def test_a_subscription_can_start_after_a_position_and_a_bus_without_store_cannot_emit(
    runtime: Runtime, relay: Relay
) -> None:
    async with open_bus(runtime) as bus:
        first = await bus.emit("report.ready", {"n": 1}, "reports")
        await bus.emit("report.ready", {"n": 2}, "reports")
        await bus.emit("report.ready", {"n": 3}, "reports")
        with pytest.raises(InvalidValues, match="emitted by Almanac only"):
            await bus.emit("job.created", {}, "intruder")

    seen: list[int] = []
    async with open_redis_bus(runtime.settings) as bus:
        bus.on("report.ready", lambda event: seen.append(event.payload["n"]), after=first.position)
        await eventually(lambda: len(seen) == 2)
        with pytest.raises(RuntimeError, match="cannot emit"):
            await bus.emit("report.ready", {}, "reports")
    assert seen == [2, 3]


async def test_on_after_the_bus_started_and_closing_one_subscription(
    runtime: Runtime, relay: Relay
) -> None:
    kept: list[int] = []
    dropped: list[int] = []
    async with RedisEventBus.open(
        runtime.redis, RedisKeys(runtime.settings.redis_prefix), runtime.deps
    ) as bus:
        bus.on("tick", lambda e: kept.append(e.payload["n"]))
        closing = bus.on("tick", lambda e: dropped.append(e.payload["n"]))
        await bus.ready()
        await bus.emit("tick", {"n": 1}, "clock")
        await eventually(lambda: kept == [1] and dropped == [1])
        await closing.close()
        await bus.emit("tick", {"n": 2}, "clock")
        await eventually(lambda: kept == [1, 2])
    assert dropped == [1]
