"""API benchmark: `GET /api/v1/jobs?limit=50` over 1,000 jobs, one `almanac api` process.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python ops/bench/api.py

Starts a scratch database, `almanac projector` and `almanac api` (one uvicorn process), seeds
jobs through the API, then drives the list endpoint with httpx at a fixed concurrency.
`measure_list_jobs(base_url)` works against any running API, for the benchmark harness.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace

import httpx
import psutil
from harness import REPO, Roles, free_port, fresh_database, healthy, role_env, wait_for

MODULES = REPO / "ops" / "examples" / "modules"
MODULE, HANDLER = "examples", "jobs/heartbeat.py"


@dataclass(frozen=True)
class ApiBenchResult:
    requests: int
    concurrency: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    client_cpu_ms_per_request: float
    api_cpu_ms_per_request: float | None = None


async def measure_list_jobs(
    base_url: str, *, requests: int = 5000, concurrency: int = 32, limit: int = 50
) -> ApiBenchResult:
    """Requests/s and latency percentiles of `GET /api/v1/jobs?limit=<limit>`."""
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                response = await client.get("/api/v1/jobs", params={"limit": limit})
                latencies.append(time.perf_counter() - started)
                # A status and size check keeps the client's own CPU (same machine) small.
                errors += response.status_code != 200 or len(response.content) < 1000

        await client.get("/api/v1/jobs", params={"limit": limit})  # warm the connection
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    ordered = sorted(latencies)
    return ApiBenchResult(
        requests=requests,
        concurrency=concurrency,
        seconds=round(elapsed, 3),
        requests_per_second=round(requests / elapsed, 1),
        p50_ms=round(ordered[len(ordered) // 2] * 1000, 2),
        p99_ms=round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        errors=errors,
        client_cpu_ms_per_request=round(cpu * 1000 / requests, 3),
    )


async def seed_jobs(base_url: str, count: int, concurrency: int = 16) -> None:
    """`count` jobs created through the API (each answer waits for the read models)."""
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def create(n: int) -> None:
            body = {"name": f"bench-{n:05}", "moduleId": MODULE, "handler": HANDLER}
            async with semaphore:
                response = await client.post("/api/v1/jobs", json=body)
            response.raise_for_status()

        await asyncio.gather(*(create(n) for n in range(count)))


def bench_api(
    server_url: str,
    redis_url: str,
    *,
    jobs: int = 1000,
    requests: int = 5000,
    concurrency: int = 32,
) -> ApiBenchResult:
    """The whole measurement on scratch servers; what `make bench` calls."""
    with (
        fresh_database(server_url) as database_url,
        running_api(database_url, redis_url) as (base_url, api_pid),
    ):
        asyncio.run(seed_jobs(base_url, jobs))
        api = psutil.Process(api_pid)
        before = sum(api.cpu_times()[:2])
        result = asyncio.run(
            measure_list_jobs(base_url, requests=requests, concurrency=concurrency)
        )
        spent = sum(api.cpu_times()[:2]) - before
        return replace(result, api_cpu_ms_per_request=round(spent * 1000 / requests, 3))


@contextmanager
def running_api(database_url: str, redis_url: str) -> Iterator[tuple[str, int]]:
    """`almanac projector` and `almanac api` on a free port; the API's base URL and pid."""
    port = free_port()
    roles = Roles(
        role_env(database_url, redis_url, ALMANAC_PORT=str(port), MODULES_PATH=str(MODULES))
    )
    try:
        roles.start("projector")
        api = roles.start("api")
        base_url = f"http://127.0.0.1:{port}"
        wait_for(lambda: healthy(base_url), 60, "the API")
        yield base_url, api.pid
    finally:
        roles.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="benchmark a running API instead (jobs already seeded)")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if args.url:
        result = asyncio.run(
            measure_list_jobs(args.url, requests=args.requests, concurrency=args.concurrency)
        )
    else:
        server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        result = bench_api(
            server, redis, jobs=args.jobs, requests=args.requests, concurrency=args.concurrency
        )
    print(f"GET /api/v1/jobs?limit=50 over {args.jobs} jobs, one API process:")
    for key, value in asdict(result).items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
