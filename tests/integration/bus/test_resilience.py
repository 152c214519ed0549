"""Subscribers outlive dropped Redis connections: they reconnect and resume from their cursor."""

from __future__ import annotations

from redis.asyncio import Redis

from application.eventbus import RetryPolicy
from infrastructure.redis.bus import RedisEventBus
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.subscribers import DurableOptions
from interfaces.bootstrap.runtime import Runtime
from tests.integration.bus.conftest import Relay
from tests.support.waiting import eventually

OPTIONS = DurableOptions(retry=RetryPolicy((0.01,)), lease_ms=2000)


async def kill_connections(admin: Redis, name: str) -> int:
    """CLIENT KILL every connection of one client name (as a network failure would)."""
    clients = await admin.client_list()
    ids = [client["id"] for client in clients if client.get("name") == name]
    for client_id in ids:
        await admin.client_kill_filter(_id=client_id)
    return len(ids)


async def test_live_and_durable_subscribers_survive_a_dropped_connection(
    runtime: Runtime, relay: Relay, keys: RedisKeys, redis_url: str
) -> None:
    name = f"victim-{keys.prefix}"
    redis = Redis.from_url(redis_url, client_name=name, socket_timeout=10)
    live: list[int] = []
    durable: list[int] = []
    try:
        async with RedisEventBus.open(redis, keys, runtime.deps, OPTIONS) as bus:
            bus.on("ping", lambda e: live.append(e.position))
            bus.on("ping", lambda e: durable.append(e.position), group="survivor")
            await bus.ready()
            first = (await bus.emit("ping", {}, "test")).position
            await eventually(lambda: live == durable == [first])

            assert await kill_connections(runtime.redis, name) >= 2  # both were waiting on Redis
            second = (await bus.emit("ping", {}, "test")).position
            third = (await bus.emit("ping", {}, "test")).position
            await eventually(lambda: live == durable == [first, second, third])
    finally:
        await redis.aclose()
