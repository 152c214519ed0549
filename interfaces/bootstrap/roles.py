"""Entry points of each role, built from settings by the composition root."""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack

from infrastructure.postgres.migrations import migrate
from infrastructure.settings import Settings
from interfaces.bootstrap.supervisor import Supervisor

log = logging.getLogger(__name__)


def run_all(settings: Settings) -> int:
    """Start embedded servers when no servers are configured, migrate, then supervise roles.

    The API role registers the modules as it starts, as it does when run on its own.
    """
    import asyncio

    with ExitStack() as stack:
        settings = _with_servers(settings, stack)
        asyncio.run(_prepare(settings))
        env = dict(os.environ)
        env["DATABASE_URL"] = str(settings.database_url)
        env["REDIS_URL"] = str(settings.redis_url)
        log.info("Almanac is starting on http://%s:%d", settings.host, settings.port)
        return Supervisor(env, settings.shutdown_grace_ms / 1000).run()


def _with_servers(settings: Settings, stack: ExitStack) -> Settings:
    if not (settings.embedded_postgres or settings.embedded_redis):
        return settings
    from infrastructure.embedded import EmbeddedPostgres, EmbeddedRedis

    data = settings.data_dir.resolve()
    database = settings.database_url
    redis = settings.redis_url
    if database is None:
        database = stack.enter_context(EmbeddedPostgres(data / "postgres")).url
        log.info("embedded PostgreSQL at %s", data / "postgres")
    if redis is None:
        redis = stack.enter_context(EmbeddedRedis(data / "redis")).url
        log.info("embedded Redis at %s", data / "redis")
    return settings.with_servers(database, redis)


async def _prepare(settings: Settings) -> None:
    applied = await migrate(str(settings.database_url))
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))


async def run_migrate(settings: Settings) -> None:
    if settings.database_url is None:
        raise SystemExit("almanac migrate needs DATABASE_URL")
    await _prepare(settings)


async def run_api(settings: Settings) -> None:
    from interfaces.bootstrap.api import serve_api

    await serve_api(settings)


async def run_projector(settings: Settings) -> None:
    from interfaces.bootstrap.projector import serve_projector

    await serve_projector(settings)


async def run_scheduler(settings: Settings) -> None:
    from interfaces.bootstrap.scheduler import serve_scheduler

    await serve_scheduler(settings)


async def run_worker(settings: Settings) -> None:
    from interfaces.bootstrap.worker import serve_worker

    await serve_worker(settings)


async def run_rebuild(settings: Settings, name: str | None) -> None:
    from interfaces.bootstrap.projector import rebuild

    await rebuild(settings, name)
