"""Does a flood from one source delay another source's events? (issue 7, protection)

A quiet source emits 20 events/s through the API and times each emit, first alone, then while
a noisy source floods the same API with 32 concurrent clients (far above its rate limit of
100/s here, so most of the flood is answered 429). The figure that matters is how much later
the quiet source's events are accepted during the flood (the API answers once the read models
show the event), and how much later they reach the Redis stream that every subscriber reads
(timed from the start of the emit). The flood comes from a process of
its own, so the quiet client's timings are not spent waiting behind its own flooding loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import time
from typing import Any

import httpx
import msgspec
from harness import api_and_projector, percentiles
from redis.asyncio import Redis

QUIET_RATE = 20
SECONDS = 10
FLOODERS = 32
# Low enough that the flood is far above it, so the limiter, not the API's capacity, is tested;
# the quiet source (20/s) stays well under it.
RATE_LIMIT = 100


def benchmark_flood(database_url: str, redis_url: str) -> dict[str, Any]:
    limit = {"EVENT_RATE_LIMIT_PER_SOURCE": str(RATE_LIMIT)}
    with api_and_projector(database_url, redis_url, **limit) as (base, stream):
        return asyncio.run(_measure(base, redis_url, stream))


async def _measure(base: str, redis_url: str, stream: str) -> dict[str, Any]:
    sent: dict[str, float] = {}  # quiet event "n:phase" -> perf_counter at the emit's start
    delivered: dict[str, float] = {}
    sending_done, all_delivered = asyncio.Event(), asyncio.Event()
    reader = asyncio.create_task(
        _read_stream(redis_url, stream, sent, delivered, (sending_done, all_delivered))
    )
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        alone = await _quiet(http, "alone", sent)
        context = multiprocessing.get_context("spawn")
        started, stop, answers = context.Event(), context.Event(), context.Queue()
        flooder = context.Process(target=flood_process, args=(base, started, stop, answers))
        flooder.start()
        await asyncio.to_thread(started.wait, 60)
        during = await _quiet(http, "during", sent)
        stop.set()
        counts: dict[int, int] = await asyncio.to_thread(answers.get, True, 60)
        await asyncio.to_thread(flooder.join, 60)
    sending_done.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_delivered.wait(), 30)
    reader.cancel()
    return {
        "accepted_ms": _compare(alone, during),
        "delivered_ms": _compare(_phase(delivered, "alone"), _phase(delivered, "during")),
        "flood_answers": {str(status): count for status, count in sorted(counts.items())},
    }


def _compare(alone: list[float], during: list[float]) -> dict[str, Any]:
    alone_p, during_p = percentiles(alone), percentiles(during)
    return {
        "quiet_alone": {k: round(v, 1) for k, v in alone_p.items()},
        "quiet_during_flood": {k: round(v, 1) for k, v in during_p.items()},
        "added_p50": round(during_p["p50"] - alone_p["p50"], 1),
        "added_p99": round(during_p["p99"] - alone_p["p99"], 1),
    }


def _phase(delivered: dict[str, float], phase: str) -> list[float]:
    return [ms for key, ms in delivered.items() if key.endswith(phase)]


async def _read_stream(
    redis_url: str,
    stream: str,
    sent: dict[str, float],
    delivered: dict[str, float],
    events: tuple[asyncio.Event, asyncio.Event],
) -> None:
    """Time each quiet event's arrival on the stream; say when all sent have arrived."""
    sending_done, all_delivered = events
    redis = Redis.from_url(redis_url)
    cursor = "$"
    try:
        while True:
            reply: Any = await redis.xread({stream: cursor}, count=500, block=1000)
            arrived = time.perf_counter()
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    cursor = entry_id
                    envelope = msgspec.json.decode(fields[b"envelope"])
                    key = envelope["payload"].get("key") if envelope["source"] == "quiet" else None
                    if key in sent:
                        delivered[key] = (arrived - sent[key]) * 1000
            if sending_done.is_set() and len(delivered) >= len(sent):
                all_delivered.set()
    finally:
        await redis.aclose()


async def _quiet(http: httpx.AsyncClient, phase: str, sent: dict[str, float]) -> list[float]:
    latencies = []
    for n in range(QUIET_RATE * SECONDS):
        key = f"{n}:{phase}"
        started = sent[key] = time.perf_counter()
        response = await http.post(
            "/api/v1/events",
            json={"name": "quiet.tick", "source": "quiet", "payload": {"key": key}},
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
