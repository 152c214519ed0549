"""Events per second emitted through the HTTP API (issue 7), from 32 concurrent clients.

`POST /api/v1/events` answers once the read models show the event, so the figure includes
storing, projecting and answering. The run ends when the last event is on the Redis stream
that every subscriber reads, which gives the relay's rate too. The rate limit is raised out of
the way: this measures capacity, `flood` measures the limiter.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from harness import api_and_projector
from redis.asyncio import Redis

CLIENTS = 32


def benchmark_api_emits(database_url: str, redis_url: str, events: int = 5000) -> dict[str, Any]:
    no_limit = {"EVENT_RATE_LIMIT_PER_SOURCE": "1000000"}
    with api_and_projector(database_url, redis_url, **no_limit) as (base, stream):
        return asyncio.run(_measure(base, redis_url, stream, events))


async def _measure(base: str, redis_url: str, stream: str, events: int) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(base, connector=connector) as session:
        await _emit(session, 200)  # warm up every process and pool
        redis = Redis.from_url(redis_url)
        try:
            before = await redis.xlen(stream)
            started = time.perf_counter()
            await _emit(session, events)
            answered = time.perf_counter() - started
            await _until_streamed(redis, stream, before + events)
            streamed = time.perf_counter() - started
        finally:
            await redis.aclose()
    return {
        "events": events,
        "emits_per_second": round(events / answered),
        "on_stream_per_second": round(events / streamed),
    }


async def _emit(session: aiohttp.ClientSession, total: int) -> None:
    remaining = iter(range(total))
    body = {"name": "bench.api", "source": "bench", "payload": {"n": 1}}

    async def client() -> None:
        for _ in remaining:
            async with session.post("/api/v1/events", json=body) as response:
                response.raise_for_status()
                await response.read()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))


async def _until_streamed(redis: Redis, stream: str, count: int, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while await redis.xlen(stream) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {count} entries reached {stream}")
        await asyncio.sleep(0.01)
