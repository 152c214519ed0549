"""Does a flood from one source delay another source's events? (issue 7, protection)

A quiet source emits 20 events/s through the API and times each emit, first alone, then while
a noisy source floods the same API with 32 concurrent clients (far above its rate limit of
100/s here, so most of the flood is answered 429). The figure that matters is how much later
the quiet source's events are accepted during the flood. The flood comes from a process of
its own, so the quiet client's timings are not spent waiting behind its own flooding loop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from typing import Any

import httpx
from harness import Roles, free_port, healthy, percentiles, role_env, wait_for

QUIET_RATE = 20
SECONDS = 10
FLOODERS = 32
# Low enough that the flood is far above it, so the limiter, not the API's capacity, is tested;
# the quiet source (20/s) stays well under it.
RATE_LIMIT = 100


def benchmark_flood(database_url: str, redis_url: str) -> dict[str, Any]:
    port = free_port()
    env = role_env(
        database_url,
        redis_url,
        ALMANAC_PORT=str(port),
        EVENT_RATE_LIMIT_PER_SOURCE=str(RATE_LIMIT),
    )
    roles = Roles(env)
    try:
        roles.start("projector")
        roles.start("api")
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: healthy(base), 60, "the API")
        return asyncio.run(_measure(base))
    finally:
        roles.stop()


async def _measure(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        alone = await _quiet(http)
        context = multiprocessing.get_context("spawn")
        started, stop, answers = context.Event(), context.Event(), context.Queue()
        flooder = context.Process(target=flood_process, args=(base, started, stop, answers))
        flooder.start()
        await asyncio.to_thread(started.wait, 60)
        during = await _quiet(http)
        stop.set()
        counts: dict[int, int] = await asyncio.to_thread(answers.get, True, 60)
        await asyncio.to_thread(flooder.join, 60)
    alone_p, during_p = percentiles(alone), percentiles(during)
    return {
        "quiet_alone_ms": {k: round(v, 1) for k, v in alone_p.items()},
        "quiet_during_flood_ms": {k: round(v, 1) for k, v in during_p.items()},
        "added_delay_p50_ms": round(during_p["p50"] - alone_p["p50"], 1),
        "added_delay_p99_ms": round(during_p["p99"] - alone_p["p99"], 1),
        "flood_answers": {str(status): count for status, count in sorted(counts.items())},
    }


async def _quiet(http: httpx.AsyncClient) -> list[float]:
    latencies = []
    for n in range(QUIET_RATE * SECONDS):
        started = time.perf_counter()
        response = await http.post(
            "/api/v1/events", json={"name": "quiet.tick", "source": "quiet", "payload": {"n": n}}
        )
        response.raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(max(0.0, 1 / QUIET_RATE - (time.perf_counter() - started)))
    return latencies


def flood_process(base: str, started: Any, stop: Any, answers: Any) -> None:
    """The noisy source: FLOODERS clients posting back to back until told to stop.

    At the lowest CPU priority: a real flood arrives over the network, spending another
    machine's CPU; here it shares two cores with the server it floods, and would otherwise
    measure how the machine is split, not how the server keeps sources apart."""
    os.nice(19)
    answers.put(asyncio.run(_flood(base, started, stop)))


async def _flood(base: str, started: Any, stop: Any) -> dict[int, int]:
    counts: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def client() -> None:
            while not stop.is_set():
                response = await http.post(
                    "/api/v1/events", json={"name": "noisy.spam", "source": "noisy", "payload": {}}
                )
                counts[response.status_code] = counts.get(response.status_code, 0) + 1
                started.set()

        await asyncio.gather(*(client() for _ in range(FLOODERS)))
    return counts
