"""The API role: REST, dashboard, SSE and probes on uvicorn, wired to real adapters."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from infrastructure.readmodels import open_read_models
from infrastructure.readmodels.metrics import PostgresMetrics
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.live import RedisLiveEvents, RedisLiveLogs
from infrastructure.redis.rate_limit import RedisRateLimiter
from infrastructure.settings import Settings
from interfaces.bootstrap.health import BackingServicesHealth
from interfaces.bootstrap.modules import register_all
from interfaces.bootstrap.runtime import open_runtime
from interfaces.http.app import create_app
from interfaces.http.services import ApiServices
from web.plugin import dashboard_plugin

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 3  # seconds; open SSE streams would otherwise hold uvicorn for ever


@asynccontextmanager
async def open_api_services(settings: Settings) -> AsyncIterator[ApiServices]:
    """Everything the HTTP interface needs, opened and closed with the app."""
    async with open_runtime(settings) as runtime:
        keys = RedisKeys(settings.redis_prefix)
        async with open_read_models(
            runtime.pool, runtime.database_url, runtime.redis, settings.redis_prefix
        ) as read:
            # The modules' jobs are listed from the first request on (bounded wait).
            position = await register_all(runtime)
            if position > 0:
                await read.sync.wait_for(position)
            yield ApiServices(
                deps=runtime.deps,
                jobs=read.jobs,
                executions=read.executions,
                events=read.events,
                modules=read.modules,
                overview=read.overview,
                retention=read.retention,
                sync=read.sync,
                health=BackingServicesHealth(runtime.pool, runtime.redis),
                live_events=RedisLiveEvents(runtime.redis, keys),
                live_logs=RedisLiveLogs(runtime.redis, runtime.pool, keys),
                event_rate_limit=RedisRateLimiter(
                    runtime.redis, keys, settings.event_rate_limit_per_source
                ),
                retention_days=settings.event_retention_days,
                metrics=PostgresMetrics(runtime.pool, runtime.store),
            )


async def serve_api(settings: Settings) -> None:
    app = create_app(lambda: open_api_services(settings), plugins=[dashboard_plugin()])
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=SHUTDOWN_TIMEOUT,
        access_log=False,
    )
    await uvicorn.Server(config).serve()
