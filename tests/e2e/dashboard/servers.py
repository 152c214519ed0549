"""The whole system for dashboard tests: API with dashboard, projector, scheduler, worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from typing import Any

import psycopg
import uvicorn
from litestar import Litestar

from infrastructure.settings import Settings
from interfaces.bootstrap.api import SHUTDOWN_TIMEOUT, open_api_services
from interfaces.http.app import create_app
from interfaces.http.services import ApiServices
from web.plugin import dashboard_plugin

# Roles import the domain's event classes first: their topics register on import (see
# tests/e2e/api/servers.py), and a role that decodes a stored event needs them.
_ROLE = (
    "import sys, domain.job, domain.execution, domain.bus_event, domain.module, "
    "domain.skipped_occurrences; from interfaces.cli.main import main; main()"
)


def dashboard_app(settings: Settings, **overrides: Any) -> Litestar:
    """The API with the dashboard over real services for `settings`, as serve_api builds it."""

    @asynccontextmanager
    async def services() -> AsyncIterator[ApiServices]:
        async with open_api_services(settings) as opened:
            yield replace(opened, **overrides)

    app = create_app(services)
    if "/" in {route.path for route in app.routes}:  # create_app mounts the dashboard itself
        return app
    return create_app(services, plugins=[dashboard_plugin()])


@contextmanager
def live_app(app: Litestar) -> Iterator[str]:
    """The app on uvicorn in a thread on a free port; yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_TIMEOUT,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="dashboard-under-test")
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the dashboard app did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT + 10)


def role_environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "ALMANAC_REDIS_PREFIX": settings.redis_prefix,
        "MODULES_PATH": ":".join(str(path) for path in settings.modules_path),
        "ALMANAC_LEASE_TIMEOUT": str(settings.lease_timeout_ms),
        "ALMANAC_SHUTDOWN_GRACE": "1000",
        "JOB_WORKER_CONCURRENCY": str(settings.worker_concurrency),
        "ALMANAC_LOG_LEVEL": "WARNING",
        "ALMANAC_DB_POOL_SIZE": "4",
    }


def wait_for_worker(settings: Settings, processes: list[subprocess.Popen[bytes]]) -> None:
    """Return once a worker heartbeat is stored; fail fast when a role process died."""
    deadline = time.monotonic() + 60
    with psycopg.connect(str(settings.database_url), autocommit=True) as connection:
        while time.monotonic() < deadline:
            dead = [process.args for process in processes if process.poll() is not None]
            if dead:
                raise RuntimeError(f"a role stopped during start-up: {dead}")
            query = "SELECT count(*) FROM almanac_workers WHERE last_seen > now() - interval '30 s'"
            row = connection.execute(query).fetchone()
            if row and row[0] > 0:
                return
            time.sleep(0.2)
    raise RuntimeError("no worker sent a heartbeat within 60 s")


@contextmanager
def role(settings: Settings, name: str) -> Iterator[subprocess.Popen[bytes]]:
    """`almanac <name>` as a process for these settings, stopped with SIGTERM on exit."""
    command = [sys.executable, "-c", _ROLE, name]
    process = subprocess.Popen(command, env=role_environment(settings))
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
