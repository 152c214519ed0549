"""The real Litestar app over real services, served by uvicorn in a thread for HTTP tests."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from typing import Any

import uvicorn
from litestar import Litestar
from litestar.plugins import PluginProtocol

from infrastructure.settings import Settings
from interfaces.bootstrap.api import SHUTDOWN_TIMEOUT, open_api_services
from interfaces.http.app import create_app
from interfaces.http.services import ApiServices
from tests.support.system import wait_until


def api_app(
    settings: Settings, plugins: Sequence[PluginProtocol] = (), **overrides: Any
) -> Litestar:
    """The app as serve_api builds it, with some of its services' fields replaced."""

    @asynccontextmanager
    async def services() -> AsyncIterator[ApiServices]:
        async with open_api_services(settings) as opened:
            yield replace(opened, **overrides)

    return create_app(services, plugins=plugins)


@contextmanager
def live_app(app: Litestar) -> Iterator[tuple[str, threading.Thread]]:
    """(base URL, server thread) of `app` on a free port, stopped on exit."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_TIMEOUT,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="app-under-test")
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout=60)
    assert server.started, "the app did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", thread
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT + 10)
