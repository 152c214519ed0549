"""Test servers: the API on uvicorn in a thread, the projector as a process, a TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from typing import Any

import uvicorn

from infrastructure.settings import Settings
from interfaces.bootstrap.api import SHUTDOWN_TIMEOUT, open_api_services
from interfaces.http.app import create_app
from interfaces.http.services import ApiServices
from tests.conftest import REPO


@contextmanager
def live_api(settings: Settings, **overrides: Any) -> Iterator[tuple[str, threading.Thread]]:
    """(base URL, server thread) of the real app on a free port, stopped on exit."""

    @asynccontextmanager
    async def services() -> AsyncIterator[ApiServices]:
        async with open_api_services(settings) as opened:
            yield replace(opened, **overrides)

    app = create_app(services)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_TIMEOUT,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="api-under-test")
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", thread
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT + 10)


@contextmanager
def projector(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """`almanac projector` (projections and relay) for these settings, stopped on exit."""
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "ALMANAC_REDIS_PREFIX": settings.redis_prefix,
        "MODULES_PATH": ":".join(str(p) for p in settings.modules_path),
        "ALMANAC_LOG_LEVEL": "WARNING",
        "ALMANAC_DB_POOL_SIZE": "4",
    }
    command = [sys.executable, "-m", "interfaces.cli", "projector"]
    process = subprocess.Popen(command, env=env, cwd=REPO)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class TcpProxy:
    """Forwards a local port to a server; `stop()` drops every connection, `start()` resumes."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        self._call(self._start())

    def stop(self) -> None:
        self._call(self._stop())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coroutine: Any) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


MODULES = (REPO / "tests" / "fixtures" / "modules",)
