"""The scheduler role: cron scheduler, event triggers, dispatcher and reaper.

Cron scheduling runs on every replica, each deciding its share of the jobs; occurrence ids
are deterministic, so even two replicas deciding the same occurrence produce one execution.
Triggers, the dispatcher and the reaper each run under a leadership lock (one active,
standbys take over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from application.dispatcher import Dispatcher
from application.reaper import reap_lost_attempts
from application.scheduling.scheduler import CronScheduler
from infrastructure.dispatch import DispatcherService
from infrastructure.postgres.leadership import run_as_leader
from infrastructure.postgres.workers import PostgresWorkerLiveness
from infrastructure.readmodels import ReadModels, open_read_models
from infrastructure.redis.keys import RedisKeys
from infrastructure.scheduling import (
    PostgresCursorStore,
    PostgresOwnership,
    caught_up_head,
    follow_jobs,
    follow_triggers,
    load_directory,
)
from infrastructure.settings import Settings
from infrastructure.taskiq.broker import TaskiqCommandSender, build_broker
from infrastructure.webhooks import CompletionWebhooks
from interfaces.bootstrap.runtime import Runtime, keep_out_of_collection, open_runtime
from interfaces.bootstrap.signals import run_until_stopped, stop_event

log = logging.getLogger(__name__)
REAP_INTERVAL = 2.0
RETENTION_INTERVAL = 24 * 60 * 60.0


async def serve_scheduler(settings: Settings) -> None:
    stop = stop_event()
    async with open_runtime(settings, pool_size=4) as runtime:
        keys = RedisKeys(settings.redis_prefix)
        async with open_read_models(
            runtime.pool, runtime.database_url, runtime.redis, settings.redis_prefix
        ) as read:
            broker = build_broker(runtime.redis_url, keys, idle_timeout_ms=60_000)
            await broker.startup()
            head = await caught_up_head(runtime.store, read.sync)
            directory = await load_directory(read.jobs, read.modules, read.executions)
            ownership = PostgresOwnership(runtime.pool)
            cron = CronScheduler(
                runtime.deps, directory, ownership, PostgresCursorStore(runtime.pool)
            )
            await cron.start()
            keep_out_of_collection()  # the job directory lives as long as the process
            services = [
                cron.run(),
                follow_jobs(cron, runtime.pool, runtime.database_url, head),
                run_as_leader(
                    runtime.database_url,
                    "triggers",
                    lambda: follow_triggers(
                        runtime.deps, read, read.sync, runtime.pool, runtime.database_url
                    ),
                ),
                *_services(runtime, read, keys, broker),
            ]
            try:
                await run_until_stopped(stop, services)
            finally:
                with contextlib.suppress(Exception):
                    await ownership.leave()
                await broker.shutdown()


def _services(
    runtime: Runtime, read: ReadModels, keys: RedisKeys, broker: Any
) -> list[Coroutine[Any, Any, None]]:
    dispatcher = DispatcherService(
        dispatcher=Dispatcher(TaskiqCommandSender(broker), runtime.deps.clock),
        pool=runtime.pool,
        database_url=runtime.database_url,
        redis=runtime.redis,
        keys=keys,
        executions=read.executions,
        sync=read.sync,
    )
    webhooks = CompletionWebhooks(
        runtime.pool, runtime.database_url, runtime.deps, runtime.settings.webhook_secret
    )
    return [
        run_as_leader(runtime.database_url, "dispatcher", dispatcher.run),
        run_as_leader(runtime.database_url, "reaper", _reaper(runtime, read)),
        run_as_leader(runtime.database_url, "webhooks", webhooks.run),
        run_as_leader(runtime.database_url, "retention", _retention(runtime, read)),
    ]


def _reaper(runtime: Runtime, read: ReadModels) -> Callable[[], Coroutine[Any, Any, None]]:
    workers = PostgresWorkerLiveness(runtime.pool)
    lease = runtime.settings.lease_timeout_ms / 1000

    async def loop() -> None:
        while True:
            try:
                await reap_lost_attempts(read.executions, workers, runtime.deps, lease)
            except Exception as error:  # keep reaping; a failed round is retried next time
                log.warning("reaping failed: %s", error)
            await asyncio.sleep(REAP_INTERVAL)

    return loop


def _retention(runtime: Runtime, read: ReadModels) -> Callable[[], Coroutine[Any, Any, None]]:
    """Once a day (and at start): bus events older than EVENT_RETENTION_DAYS go."""
    days = runtime.settings.event_retention_days

    async def loop() -> None:
        while True:
            cutoff = runtime.deps.clock.now() - timedelta(days=days)
            try:
                await read.retention.delete_events_before(cutoff)  # it logs what it removed
            except Exception as error:  # tried again tomorrow; events are only kept longer
                log.warning("retention failed: %s", error)
            await asyncio.sleep(RETENTION_INTERVAL)

    return loop
