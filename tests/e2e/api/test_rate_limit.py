"""The per-source limiter on real Redis: exact across clients (processes), per window."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.rate_limit import RedisRateLimiter
from tests.support.databases import new_prefix


async def test_exact_limit_across_clients_then_a_new_window(redis_url: str) -> None:
    keys = RedisKeys(new_prefix("rl"))
    clients = [Redis.from_url(redis_url) for _ in range(2)]
    limiters = [RedisRateLimiter(client, keys, per_second=10) for client in clients]
    try:
        await _start_of_a_second()
        waits = await asyncio.gather(*(limiters[n % 2].retry_after("src") for n in range(50)))
        assert sum(wait == 0 for wait in waits) == 10
        assert all(0 < wait <= 1 for wait in waits if wait)
        assert await limiters[0].retry_after("another-source") == 0
        await asyncio.sleep(max(waits) + 0.01)
        assert await limiters[1].retry_after("src") == 0
        ttl = await clients[0].ttl(keys.rate("src", int(time.time())))
        assert 0 < ttl <= 2
    finally:
        for client in clients:
            await client.aclose()


async def _start_of_a_second() -> None:
    """Wait for a fresh second, so 50 quick calls share one window."""
    await asyncio.sleep(1 - time.time() % 1 + 0.01)
