"""The worker role: RunExecution commands from taskiq, handlers in killable slots."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

from taskiq.receiver import Receiver

from application.bus import emit_event
from application.commands import EmitEvent
from application.worker import AttemptRunner
from domain.execution import Execution
from infrastructure.handler_services.module_database import ModuleDatabases
from infrastructure.redis.keys import RedisKeys
from infrastructure.settings import Settings
from infrastructure.taskiq.broker import RUN_EXECUTION, build_broker
from infrastructure.worker.cancels import CancelWatcher
from infrastructure.worker.heartbeat import WorkerHeartbeat
from infrastructure.worker.logs import ExecutionLogWriter
from infrastructure.worker.slots import SlotPool
from interfaces.bootstrap.runtime import Runtime, open_runtime
from interfaces.bootstrap.signals import stop_event

log = logging.getLogger(__name__)
SLOT_COMMAND = (sys.executable, "-m", "interfaces.bootstrap.slot")


async def serve_worker(settings: Settings) -> None:
    stop = stop_event()
    # An attempt's outcome reuses the execution its claim saved (EventStore.load_recent).
    async with open_runtime(settings, pool_size=3, keep=(Execution,)) as runtime:
        worker = await _Worker.start(runtime)
        try:
            await stop.wait()
            log.info(
                "stopping: finishing running handlers (grace %d ms)", settings.shutdown_grace_ms
            )
        finally:
            await worker.stop(settings.shutdown_grace_ms / 1000)


class _Worker:
    """One worker process: receiver, slots, heartbeat, cancel watcher, log writer."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.keys = RedisKeys(settings.redis_prefix)
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid4().hex[:6]}"
        self.logs = ExecutionLogWriter(runtime.pool, runtime.redis, self.keys)
        # Handlers connect as their module's own role, confined to the module's schema.
        self.databases = ModuleDatabases(runtime.pool, runtime.database_url)
        self.slots = SlotPool(
            size=settings.worker_concurrency,
            command=SLOT_COMMAND,
            locator=runtime.catalog,
            log_sink=self.logs.add,
            emitter=self._emit,
            database_url_for=self.databases.url_for,
            flush_logs=self.logs.flush,
        )
        self.runner = AttemptRunner(runtime.deps, self.slots, self.worker_id)
        lease = settings.lease_timeout_ms / 1000
        self.heartbeat = WorkerHeartbeat(
            runtime.pool, self.worker_id, settings.worker_concurrency, lease
        )
        idle_timeout = max(settings.lease_timeout_ms * 2, 60_000)
        self.broker = build_broker(runtime.redis_url, self.keys, idle_timeout)
        runner = self.runner

        async def run_execution(execution_id: str, attempt: int) -> None:
            """The RunExecution command: claim, run, record (see AttemptRunner)."""
            await runner.run(UUID(execution_id), attempt)

        # taskiq renames the registered function, so it must be a plain function.
        self.broker.register_task(run_execution, task_name=RUN_EXECUTION)
        self.finish = asyncio.Event()
        self.tasks: list[asyncio.Task[Any]] = []

    @classmethod
    async def start(cls, runtime: Runtime) -> _Worker:
        worker = cls(runtime)
        await worker.heartbeat.register()
        await worker.slots.start()
        worker.logs.start()
        await worker.broker.startup()
        worker.broker.is_worker_process = True
        watcher = CancelWatcher(
            runtime.redis,
            worker.keys,
            runtime.store,
            worker.runner.running.keys,
            worker.runner.cancel,
        )
        receiver = Receiver(
            worker.broker,
            executor=ThreadPoolExecutor(max_workers=1),
            max_async_tasks=runtime.settings.worker_concurrency,
            max_prefetch=0,
            run_startup=False,
            propagate_exceptions=False,
        )
        worker.tasks = [
            asyncio.create_task(receiver.listen(worker.finish), name="receiver"),
            asyncio.create_task(
                worker.heartbeat.run(lambda: len(worker.runner.running), worker.runner.stop_all)
            ),
            asyncio.create_task(watcher.run()),
        ]
        log.info(
            "worker %s ready with %d slots", worker.worker_id, runtime.settings.worker_concurrency
        )
        return worker

    async def stop(self, grace: float) -> None:
        """Stop fetching; let handlers finish within the grace period, then hand them back."""
        self.finish.set()
        with contextlib.suppress(Exception):
            await self.heartbeat.stopping()
        receiver = self.tasks[0]
        done, _ = await asyncio.wait({receiver}, timeout=grace)
        if not done:
            self.runner.stop_all()
            await asyncio.wait({receiver}, timeout=5)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.slots.close()
        await self.logs.close()
        await self.broker.shutdown()
        with contextlib.suppress(Exception):
            await self.heartbeat.deregister()

    async def _emit(self, name: str, payload: dict[str, Any], source: str) -> str:
        outcome = await emit_event(EmitEvent(name, payload, source), self.runtime.deps)
        return str(outcome.value.id)
