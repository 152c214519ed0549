"""Handler log lines: batched into `execution_logs`, then announced for live tails."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.worker import RunRequest
from infrastructure.redis.keys import RedisKeys
from infrastructure.worker.protocol import Log

log = logging.getLogger(__name__)
FLUSH_INTERVAL = 0.1
MAX_PENDING = 50_000
Row = tuple[UUID, int, datetime, str, str, dict[str, Any]]


class ExecutionLogWriter:
    """Lines are written first, then announced: a live reader re-reads the table on each
    announcement, so nothing shown live can be missing from the stored log."""

    def __init__(self, pool: asyncpg.Pool, redis: Redis, keys: RedisKeys) -> None:
        self._pool = pool
        self._redis = redis
        self._keys = keys
        self._pending: list[Row] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def add(self, request: RunRequest, line: Log) -> None:
        if len(self._pending) >= MAX_PENDING:
            return  # a handler flooding its log must not exhaust the worker's memory
        at = datetime.fromtimestamp(line.at, UTC)
        self._pending.append(
            (request.execution_id, request.attempt, at, line.level, line.message, line.fields)
        )

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            await self.flush()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="almanac-log-writer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            rows, self._pending = self._pending, []
            if not rows:
                return
            try:
                await self._pool.copy_records_to_table(
                    "execution_logs",
                    records=rows,
                    columns=["execution_id", "attempt", "at", "level", "message", "fields"],
                )
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("dropping %d log lines: %s", len(rows), error)
                return
            await self._announce({row[0] for row in rows})

    async def _announce(self, executions: set[UUID]) -> None:
        try:
            pipe = self._redis.pipeline(transaction=False)
            for execution_id in executions:
                pipe.publish(self._keys.logs(str(execution_id)), "1")
            await pipe.execute()
        except RedisError as error:
            log.debug("could not announce log lines: %s", error)
