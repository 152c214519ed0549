"""Executions per second end to end, against a bare taskiq worker; start latency when idle."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import aiohttp
import asyncpg
import httpx
from harness import REPO, Roles, free_port, healthy, percentiles, role_env, wait_for
from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

CLIENTS = 32


def almanac_throughput(
    database_url: str, redis_url: str, total: int, workers: int, concurrency: int
) -> dict[str, Any]:
    """Start the whole system, request `total` runs over HTTP, time until the read model
    shows them all COMPLETED."""
    port = free_port()
    roles = Roles(
        role_env(
            database_url, redis_url, ALMANAC_PORT=str(port), JOB_WORKER_CONCURRENCY=str(concurrency)
        )
    )
    try:
        for role in ("projector", "scheduler", "api"):
            roles.start(role)
        for _ in range(workers):
            roles.start("worker")
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: healthy(base), 60, "the API")
        return asyncio.run(_measure(base, database_url, total))
    finally:
        roles.stop()


async def _measure(base: str, database_url: str, total: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        job_id = await _noop_job(http)
        await _request(base, job_id, 200)  # warm up every process and pool
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            await _until_completed(pool, 200, within=120)
            latency = await _start_latency(http, pool, job_id, samples=200)
            started = time.perf_counter()
            await _request(base, job_id, total)
            requested = time.perf_counter() - started
            await _until_completed(pool, 400 + total, within=600)
            elapsed = time.perf_counter() - started
        finally:
            await pool.close()
    return {
        "executions": total,
        "seconds": round(elapsed, 2),
        "per_second": round(total / elapsed, 1),
        "requests_per_second": round(total / requested, 1),
        "start_latency_ms": latency,
    }


async def _noop_job(http: httpx.AsyncClient) -> str:
    jobs = (await http.get("/api/v1/jobs", params={"moduleId": "bench"})).json()["items"]
    return str(next(job["id"] for job in jobs if job["name"] == "noop"))


async def _request(base: str, job_id: str, total: int) -> None:
    """`total` POSTs from CLIENTS concurrent clients. The load generator shares the cores with
    the system under test, so it uses aiohttp: httpx costs several times the CPU per request."""
    remaining = iter(range(total))
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(base, connector=connector) as session:

        async def client() -> None:
            for _ in remaining:
                async with session.post(f"/api/v1/jobs/{job_id}/execute", json={}) as response:
                    response.raise_for_status()
                    await response.read()

        await asyncio.gather(*(client() for _ in range(CLIENTS)))


async def _until_completed(pool: asyncpg.Pool, count: int, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        done = await pool.fetchval("SELECT count(*) FROM rm_executions WHERE status = 'COMPLETED'")
        if done >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {done} of {count} executions completed")
        await asyncio.sleep(0.05)


async def _start_latency(
    http: httpx.AsyncClient, pool: asyncpg.Pool, job_id: str, samples: int
) -> dict[str, float]:
    """Request to handler start, one run at a time on an idle system (server timestamps)."""
    delays = []
    for _ in range(samples):
        execution = (await http.post(f"/api/v1/jobs/{job_id}/execute", json={})).json()["id"]
        delays.append(await _requested_to_started(pool, execution))
    return {key: round(value, 1) for key, value in percentiles(delays).items()}


async def _requested_to_started(pool: asyncpg.Pool, execution_id: str) -> float:
    while True:
        rows = await pool.fetch(
            "SELECT topic, state FROM almanac_events WHERE originator_id = $1 "
            "ORDER BY originator_version",
            uuid.UUID(execution_id),
        )
        if len(rows) >= 2:
            requested, started = (_timestamp(bytes(row["state"])) for row in rows[:2])
            return (started - requested) * 1000
        await asyncio.sleep(0.005)


def _timestamp(state: bytes) -> float:
    from datetime import datetime

    import msgspec

    raw = msgspec.json.decode(state)["timestamp"]
    return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()


def taskiq_throughput(redis_url: str, total: int, workers: int) -> dict[str, Any]:
    """The ceiling: taskiq's own stream worker draining `total` pre-queued noop tasks."""
    queue = f"bench:baseline:{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, BENCH_REDIS_URL=redis_url, BENCH_QUEUE=queue)
    asyncio.run(_enqueue(redis_url, queue, total))
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taskiq",
            "worker",
            "ops.bench.baseline_tasks:broker",
            "--workers",
            str(workers),
            "--no-configure-logging",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return asyncio.run(_drained(redis_url, queue, total))
    finally:
        worker.terminate()
        worker.wait(timeout=30)


async def _enqueue(redis_url: str, queue: str, total: int) -> None:
    broker = RedisStreamBroker(redis_url, queue_name=queue, consumer_group_name=queue + ":group")
    await broker.startup()  # creates the group first, so nothing sent is skipped
    task = broker.register_task(_noop_reference, task_name="bench.noop")
    semaphore = asyncio.Semaphore(64)

    async def send() -> None:
        async with semaphore:
            await task.kiq(total)

    await asyncio.gather(*(send() for _ in range(total)))
    await broker.shutdown()


async def _noop_reference(total: int) -> None:
    del total


async def _drained(redis_url: str, queue: str, total: int) -> dict[str, Any]:
    redis = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 600
        while not await redis.exists(queue + ":last"):
            if time.monotonic() > deadline:
                raise TimeoutError("the baseline worker did not drain its queue")
            await asyncio.sleep(0.05)
        first = float(await redis.get(queue + ":first"))
        last = float(await redis.get(queue + ":last"))
    finally:
        await redis.aclose()
    seconds = last - first
    return {
        "tasks": total,
        "seconds": round(seconds, 2),
        "per_second": round((total - 1) / seconds, 1),
    }
