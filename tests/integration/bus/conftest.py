"""Fixtures for the bus: a runtime on a database of its own, a relay in-process, subprocesses.

Every test gets a fresh database (the relay's position lives there) and its own Redis prefix,
so a relay publishes exactly this test's events onto this test's stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.relay import RedisStreamRelay
from infrastructure.settings import Settings
from interfaces.bootstrap.runtime import Runtime, open_runtime
from tests.support.system import REPO
from tests.support.waiting import eventually

SUBSCRIBER_SCRIPT = Path(__file__).with_name("subscriber_process.py")


class Relay:
    """The relay as a task we can stop and start (the projector runs it in production)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        runtime = self._runtime
        relay = RedisStreamRelay(
            runtime.pool,
            runtime.database_url,
            runtime.redis,
            RedisKeys(runtime.settings.redis_prefix),
            runtime.settings.stream_maxlen,
        )
        self._task = asyncio.create_task(relay.run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
def bus_settings(settings: Settings, fresh_database_url: str) -> Settings:
    return replace(settings, database_url=fresh_database_url)


@pytest.fixture
async def runtime(bus_settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(bus_settings, pool_size=4, store_threads=4) as runtime:
        yield runtime


@pytest.fixture
async def relay(runtime: Runtime) -> AsyncIterator[Relay]:
    relay = Relay(runtime)
    relay.start()
    yield relay
    await relay.stop()


@pytest.fixture
def keys(redis_prefix: str) -> RedisKeys:
    return RedisKeys(redis_prefix)


def process_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=str(settings.database_url),
        REDIS_URL=str(settings.redis_url),
        ALMANAC_REDIS_PREFIX=settings.redis_prefix,
        PYTHONPATH=str(REPO),
        ALMANAC_LOG_LEVEL="INFO",
        ALMANAC_DB_POOL_SIZE="4",
    )
    return env


@dataclass
class Child:
    """A subprocess whose stdout and stderr lines are collected as they arrive."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, settings: Settings, *args: str) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=REPO,
            env=process_env(settings),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        child = cls(process)
        assert process.stdout is not None
        assert process.stderr is not None
        child._readers = [
            asyncio.create_task(_collect(process.stdout, child.lines)),
            asyncio.create_task(_collect(process.stderr, child.errors)),
        ]
        return child

    async def wait_for_line(self, text: str, *, stderr: bool = False, timeout: float = 15) -> None:
        lines = self.errors if stderr else self.lines

        async def seen() -> bool:
            if self.process.returncode is not None:
                raise AssertionError(f"exited {self.process.returncode}: {self.errors[-20:]}")
            return any(text in line for line in lines)

        await eventually(seen, timeout=timeout)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.process.send_signal(sig)

    async def wait(self, timeout: float = 15) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.gather(*self._readers)
        return code


async def _collect(stream: asyncio.StreamReader, into: list[str]) -> None:
    async for line in stream:
        into.append(line.decode().rstrip("\n"))


@pytest.fixture
async def children() -> AsyncIterator[list[Child]]:
    """Subprocesses started by a test; any left running are killed at the end."""
    started: list[Child] = []
    yield started
    for child in started:
        if child.process.returncode is None:
            child.kill()
            await child.wait()
