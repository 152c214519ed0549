"""Shared pieces of the benchmarks: servers, a fresh database, role processes, statistics."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from redis import Redis as SyncRedis  # noqa: E402

from infrastructure.postgres.migrations import migrate  # noqa: E402

MODULES = REPO / "ops" / "bench" / "modules"


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """(postgres server URL, redis URL): DATABASE_URL/REDIS_URL, else embedded ones."""
    database, redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    with contextlib.ExitStack() as stack:
        if not database or not redis:
            from infrastructure.embedded import EmbeddedPostgres, EmbeddedRedis

            data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            database = database or stack.enter_context(EmbeddedPostgres(data / "pg")).url
            redis = redis or stack.enter_context(EmbeddedRedis(data / "redis")).url
        stack.callback(_forget_bench_keys, redis)
        yield database, redis


def _forget_bench_keys(redis_url: str) -> None:
    """Every phase's streams and queues go when the run ends: a shared Redis that kept
    them grew by hundreds of megabytes and slowed the next run's baseline."""
    client = SyncRedis.from_url(redis_url)
    try:
        for key in client.scan_iter(match="bench*", count=1000):
            client.delete(key)
    finally:
        client.close()


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    name = f"almanac_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(migrate(url))
    try:
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Roles:
    """Almanac role processes sharing one environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, role: str, **extra: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "interfaces.cli", role],
            env=self.env | extra,
            cwd=REPO,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


@contextlib.contextmanager
def api_and_projector(database_url: str, redis_url: str, **extra: str) -> Iterator[tuple[str, str]]:
    """An API and a projector (which runs the relay) on a free port, until the block ends;
    yields the API's base URL and the Redis stream every subscriber reads."""
    port = free_port()
    env = role_env(database_url, redis_url, ALMANAC_PORT=str(port), **extra)
    roles = Roles(env)
    try:
        roles.start("projector")
        roles.start("api")
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: healthy(base), 60, "the API")
        yield base, f"{env['ALMANAC_REDIS_PREFIX']}:events"
    finally:
        roles.stop()


def role_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALMANAC_", "JOB_"))}
    return (
        env
        | {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ALMANAC_REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
            "MODULES_PATH": str(MODULES),
            "ALMANAC_LOG_LEVEL": "WARNING",
        }
        | extra
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p99 and max of samples in milliseconds."""
    if not samples:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50": statistics.median(ordered), "p99": p99, "max": ordered[-1]}


def healthy(base_url: str) -> bool:
    """Whether the API at `base_url` answers its health check."""
    try:
        return httpx.get(base_url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)
