"""Event bus benchmark: emits/s through the Python API, and emit-to-subscriber latency.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python ops/bench/bus.py [--events 5000] [--concurrency 64] [--rate 200]

(or `python ops/bench/run.py bus`, which calls `benchmark_bus`). A fresh database and a Redis
prefix of its own; the relay runs in a real `almanac projector` process, as deployed. In this
process a live subscriber (`bus.on`) and a durable one (`group=`) receive every event:
1. burst: `events` emits, `concurrency` at once: stored events/s, how fast each subscriber
   drains them, and each event's latency (queueing included);
2. paced: `rate` events/s for `seconds`: the latency an event sees when the bus keeps up;
3. ceiling: the same envelopes XADDed straight to a Redis stream with the same concurrency and
   read with XREAD BLOCK (no store, no relay), on the same Redis, for the ratios.
Latency runs from the start of `await bus.emit(...)` to the subscriber's callback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec
from harness import Roles, fresh_database, percentiles, role_env, servers, wait_for
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from application.eventbus import Event, RetryPolicy
from infrastructure.redis.subscribers import DurableOptions
from infrastructure.settings import Settings
from interfaces.bootstrap.bus import open_bus
from interfaces.bootstrap.runtime import open_runtime


@dataclass
class Receiver:
    """Collects latencies (ms) until `expected` events arrived."""

    expected: int = 0
    latencies: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def reset(self, expected: int) -> None:
        self.expected, self.latencies = expected, []
        self.done.clear()

    async def __call__(self, event: Event) -> None:
        self.latencies.append((time.perf_counter() - float(event.payload["sentAt"])) * 1000)
        if len(self.latencies) >= self.expected:
            self.done.set()


def benchmark_bus(
    database_url: str,
    redis_url: str,
    *,
    events: int = 5000,
    concurrency: int = 64,
    rate: float = 200.0,
    seconds: float = 5.0,
) -> dict[str, object]:
    """Every phase on a fresh, migrated database; JSON-ready figures and ratios."""
    ceiling = asyncio.run(bare_stream(redis_url, events, concurrency))
    env = role_env(database_url, redis_url)
    settings = Settings(
        database_url=database_url, redis_url=redis_url, redis_prefix=env["ALMANAC_REDIS_PREFIX"]
    )
    roles = Roles(env)
    try:
        roles.start("projector")
        relay_marker = f"{settings.redis_prefix}:epoch:relay"
        with SyncRedis.from_url(redis_url) as redis:
            wait_for(lambda: redis.exists(relay_marker), 60, "the relay")
        almanac = asyncio.run(almanac_bus(settings, events, concurrency, rate, seconds))
    finally:
        roles.stop()
        _forget(redis_url, settings.redis_prefix)
    emits = float(almanac["burst"]["emits_per_second"])
    return {
        "almanac": almanac,
        "bare_redis_stream": ceiling,
        "ratio_emits_to_bare_xadds": round(emits / float(ceiling["xadds_per_second"]), 2),
    }


async def almanac_bus(
    settings: Settings, events: int, concurrency: int, rate: float, seconds: float
) -> dict[str, Any]:
    live, durable = Receiver(), Receiver()
    stored_in: list[float] = []
    options = DurableOptions(retry=RetryPolicy(()), batch=50)
    async with open_runtime(settings) as runtime, open_bus(runtime, options) as bus:
        bus.on("bench.tick", live)
        bus.on_pattern("bench.*", durable, group="bench")
        await bus.ready()
        gate = asyncio.Semaphore(concurrency)

        async def emit() -> None:
            async with gate:
                sent = time.perf_counter()
                await bus.emit("bench.tick", {"sentAt": sent}, "bench")
                stored_in.append((time.perf_counter() - sent) * 1000)

        burst = await _burst(emit, events, live, durable)
        stored_in.clear()
        paced = await _paced(emit, rate, seconds, live, durable)
    return {"burst": burst, "paced": paced | {"emit_until_stored_ms": _rounded(stored_in)}}


async def _burst(emit: Any, events: int, live: Receiver, durable: Receiver) -> dict[str, object]:
    for receiver in (live, durable):
        receiver.reset(events)
    started = time.perf_counter()
    await asyncio.gather(*(emit() for _ in range(events)))
    stored = time.perf_counter() - started
    await asyncio.wait_for(live.done.wait(), 120)
    live_drained = time.perf_counter() - started
    await asyncio.wait_for(durable.done.wait(), 300)
    durable_drained = time.perf_counter() - started
    return {
        "events": events,
        "emits_per_second": round(events / stored),
        "live_drain_per_second": round(events / live_drained),
        "durable_drain_per_second": round(events / durable_drained),
        "live_latency_ms": _rounded(live.latencies),
        "durable_latency_ms": _rounded(durable.latencies),
    }


async def _paced(
    emit: Any, rate: float, seconds: float, live: Receiver, durable: Receiver
) -> dict[str, object]:
    count = int(rate * seconds)
    for receiver in (live, durable):
        receiver.reset(count)
    origin = time.perf_counter()
    tasks = []
    for index in range(count):
        delay = origin + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(emit()))
    await asyncio.gather(*tasks)
    await asyncio.wait_for(asyncio.gather(live.done.wait(), durable.done.wait()), 60)
    return {
        "rate_per_second": rate,
        "live_latency_ms": _rounded(live.latencies),
        "durable_latency_ms": _rounded(durable.latencies),
    }


async def bare_stream(redis_url: str, events: int, concurrency: int) -> dict[str, Any]:
    """The same envelopes straight onto a Redis stream: no store, no relay."""
    stream = f"bench-{uuid.uuid4().hex[:8]}:ceiling"
    redis = Redis.from_url(redis_url)
    encode = msgspec.json.Encoder().encode
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def read() -> None:
        cursor: Any = "0-0"
        while len(latencies) < events:
            reply: Any = await redis.xread({stream: cursor}, count=500, block=1000)
            for _, entries in reply or ():
                for cursor, fields in entries:  # noqa: B007 - the cursor is what we keep
                    sent = msgspec.json.decode(fields[b"envelope"])["payload"]["sentAt"]
                    latencies.append((time.perf_counter() - sent) * 1000)

    async def add() -> None:
        async with gate:
            envelope: dict[str, object] = {"id": str(uuid.uuid4()), "name": "bench.tick"}
            envelope |= {"source": "bench", "payload": {"sentAt": time.perf_counter()}}
            await redis.xadd(stream, {"envelope": encode(envelope)})

    try:
        reader = asyncio.create_task(read())
        started = time.perf_counter()
        await asyncio.gather(*(add() for _ in range(events)))
        added = time.perf_counter() - started
        await asyncio.wait_for(reader, 60)
        return {"xadds_per_second": round(events / added), "latency_ms": _rounded(latencies)}
    finally:
        await redis.delete(stream)
        await redis.aclose()


def _rounded(samples: list[float]) -> dict[str, float]:
    return {key: round(value, 1) for key, value in percentiles(samples).items()}


def _forget(redis_url: str, prefix: str) -> None:
    with SyncRedis.from_url(redis_url) as redis:
        keys = list(redis.scan_iter(f"{prefix}:*"))
        if keys:
            redis.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with servers() as (server_url, redis_url), fresh_database(server_url) as database_url:
        figures = benchmark_bus(
            database_url,
            redis_url,
            events=args.events,
            concurrency=args.concurrency,
            rate=args.rate,
            seconds=args.seconds,
        )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
