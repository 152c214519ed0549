"""Event bus benchmark: emits/s through the Python API, and emit-to-subscriber latency.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python ops/bench/bus.py [--events 5000] [--concurrency 64] [--rate 200]

A scratch database and Redis prefix of its own; the relay runs in a real `almanac projector`
process, as deployed. In this process: a live subscriber (`bus.on`) and a durable one
(`group=`) receive every event. Phases:
1. burst: `--events` emits with `--concurrency` at once: stored events/s, the time until both
   subscribers have all of them, and the latency of each event (queueing included);
2. paced: `--rate` events/s for `--seconds`: the latency an event sees on a loaded system;
3. ceiling: the same envelopes XADDed straight to a Redis stream and read with XREAD BLOCK
   (no store, no relay), on the same Redis, for the ratios.
Latency is from the start of `await bus.emit(...)` to the subscriber's callback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1].parent
sys.path.insert(0, str(REPO))

import msgspec  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from application.eventbus import Event, RetryPolicy  # noqa: E402
from infrastructure.postgres.migrations import migrate  # noqa: E402
from infrastructure.redis.subscribers import DurableOptions  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from interfaces.bootstrap.bus import open_bus  # noqa: E402
from interfaces.bootstrap.runtime import open_runtime  # noqa: E402


@dataclass
class Receiver:
    """Collects latencies until `expected` events arrived."""

    expected: int = 0
    latencies: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def reset(self, expected: int) -> None:
        self.expected, self.latencies = expected, []
        self.done.clear()

    async def __call__(self, event: Event) -> None:
        self.latencies.append(time.perf_counter() - float(event.payload["sentAt"]))
        if len(self.latencies) >= self.expected:
            self.done.set()


def percentiles(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms"


async def bench_bus(
    settings: Settings, events: int, concurrency: int, rate: float, seconds: float
) -> dict[str, Any]:
    """Both phases against a running relay; returns the figures (also printed)."""
    live, durable = Receiver(), Receiver()
    options = DurableOptions(retry=RetryPolicy(()), batch=50)
    async with open_runtime(settings) as runtime, open_bus(runtime, options) as bus:
        bus.on("bench.tick", live)
        bus.on_pattern("bench.*", durable, group="bench")
        await bus.ready()
        gate = asyncio.Semaphore(concurrency)
        stored_in: list[float] = []

        async def emit() -> None:
            async with gate:
                sent = time.perf_counter()
                await bus.emit("bench.tick", {"sentAt": sent}, "bench")
                stored_in.append(time.perf_counter() - sent)

        for receiver in (live, durable):
            receiver.reset(events)
        started = time.perf_counter()
        await asyncio.gather(*(emit() for _ in range(events)))
        stored = time.perf_counter() - started
        await asyncio.wait_for(live.done.wait(), 120)
        live_all = time.perf_counter() - started
        await asyncio.wait_for(durable.done.wait(), 300)
        durable_all = time.perf_counter() - started
        burst = {
            "emits_per_s": events / stored,
            "live_drain_per_s": events / live_all,
            "durable_drain_per_s": events / durable_all,
            "live_latency": percentiles(live.latencies),
            "durable_latency": percentiles(durable.latencies),
        }

        paced = int(rate * seconds)
        stored_in.clear()
        for receiver in (live, durable):
            receiver.reset(paced)
        tasks = []
        origin = time.perf_counter()
        for index in range(paced):
            await _until(origin + index / rate)
            tasks.append(asyncio.create_task(emit()))
        await asyncio.gather(*tasks)
        await asyncio.wait_for(asyncio.gather(live.done.wait(), durable.done.wait()), 60)
        return burst | {
            "paced_emit_latency": percentiles(stored_in),
            "paced_live_latency": percentiles(live.latencies),
            "paced_durable_latency": percentiles(durable.latencies),
        }


async def _until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def bench_ceiling(redis_url: str, events: int, concurrency: int) -> dict[str, Any]:
    """The same envelopes straight onto a Redis stream: no store, no relay."""
    stream = f"almanac-bench-{uuid.uuid4().hex[:8]}:ceiling"
    redis = Redis.from_url(redis_url)
    encode = msgspec.json.Encoder().encode
    latencies: list[float] = []

    async def read() -> None:
        cursor = "0-0"
        while len(latencies) < events:
            reply: Any = await redis.xread({stream: cursor}, count=500, block=1000)
            for _, entries in reply or ():
                for entry_id, fields in entries:
                    cursor = entry_id
                    body = msgspec.json.decode(fields[b"envelope"])
                    latencies.append(time.perf_counter() - body["payload"]["sentAt"])

    gate = asyncio.Semaphore(concurrency)

    async def add() -> None:
        async with gate:
            body = {
                "id": str(uuid.uuid4()),
                "name": "bench.tick",
                "source": "bench",
                "payload": {"sentAt": time.perf_counter()},
                "createdAt": "",
                "position": 0,
            }
            await redis.xadd(stream, {"envelope": encode(body)})

    try:
        reader = asyncio.create_task(read())
        started = time.perf_counter()
        await asyncio.gather(*(add() for _ in range(events)))
        added = time.perf_counter() - started
        await asyncio.wait_for(reader, 60)
        return {"xadds_per_s": events / added, "latency": percentiles(latencies)}
    finally:
        await redis.delete(stream)
        await redis.aclose()


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    import psycopg

    name = f"almanac_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def projector(settings: Settings) -> Iterator[None]:
    """`almanac projector` (projections and the relay) as its own process."""
    import signal
    import subprocess

    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "ALMANAC_REDIS_PREFIX": settings.redis_prefix,
        "ALMANAC_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli", "projector"], env=env, cwd=REPO
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


async def wait_for_relay(settings: Settings) -> None:
    redis = Redis.from_url(str(settings.redis_url))
    try:
        deadline = time.monotonic() + 60
        while not await redis.exists(f"{settings.redis_prefix}:epoch:relay"):
            if time.monotonic() > deadline:
                raise RuntimeError("the relay did not start within 60 s")
            await asyncio.sleep(0.05)
    finally:
        await redis.aclose()


async def main(arguments: argparse.Namespace) -> None:
    server, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    ceiling = await bench_ceiling(redis_url, arguments.events, arguments.concurrency)
    with scratch_database(server) as url:
        await migrate(url)
        prefix = f"almanac-bench-{uuid.uuid4().hex[:8]}"
        settings = replace(Settings(), database_url=url, redis_url=redis_url, redis_prefix=prefix)
        with projector(settings):
            await wait_for_relay(settings)
            almanac = await bench_bus(
                settings, arguments.events, arguments.concurrency, arguments.rate, arguments.seconds
            )
        await _clean(redis_url, prefix)
    report(arguments, almanac, ceiling)


async def _clean(redis_url: str, prefix: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


def report(arguments: argparse.Namespace, almanac: dict[str, Any], ceiling: dict[str, Any]) -> None:
    figures = almanac
    print(f"burst of {arguments.events} events, {arguments.concurrency} concurrent emitters:")
    print(f"  emit (stored):            {figures['emits_per_s']:8,.0f} events/s")
    drained = figures["live_drain_per_s"], figures["live_latency"]
    print(f"  live subscriber drained:  {drained[0]:8,.0f} events/s; {drained[1]}")
    drained = figures["durable_drain_per_s"], figures["durable_latency"]
    print(f"  durable subscriber:       {drained[0]:8,.0f} events/s; {drained[1]}")
    print(f"paced {arguments.rate:.0f} events/s for {arguments.seconds:.0f} s:")
    print(f"  emit (until stored): {almanac['paced_emit_latency']}")
    print(f"  live latency:        {almanac['paced_live_latency']}")
    print(f"  durable latency:     {almanac['paced_durable_latency']}")
    print("ceiling: bare XADD + XREAD on the same Redis (no store, no relay):")
    print(f"  {ceiling['xadds_per_s']:8,.0f} events/s; {ceiling['latency']}")
    print(f"ratio emit/ceiling: {almanac['emits_per_s'] / ceiling['xadds_per_s']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(main(parser.parse_args()))
