"""Runs the dispatcher against the event log, and keeps it honest across restarts.

On start it reloads what only lived in memory (retry timers, executions queued behind
another) from the read models, once they have caught up to its position. If Redis loses
its data, every PENDING execution is sent again: work is delayed, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.dispatcher import Dispatcher, DueRun
from application.ports import ReadModelSync
from application.queries import ExecutionQueries, every
from application.views import ExecutionFilters, ExecutionView
from domain.execution import TERMINAL_EVENTS, Execution
from domain.execution_values import ExecutionStatus
from infrastructure.postgres.log_tailer import LogTailer
from infrastructure.postgres.positions import Positions, ThrottledPosition
from infrastructure.redis.keys import RedisKeys

log = logging.getLogger(__name__)
POSITION_NAME = "dispatcher"
# The events Dispatcher.observe acts on.
TOPICS = tuple(
    event.TOPIC
    for event in (
        Execution.Created,
        Execution.AttemptFailed,
        Execution.AttemptReleased,
        *TERMINAL_EVENTS,
    )
)
EPOCH_CHECK_INTERVAL = 2.0


class DispatcherService:
    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        pool: asyncpg.Pool,
        database_url: str,
        redis: Redis,
        keys: RedisKeys,
        executions: ExecutionQueries,
        sync: ReadModelSync,
    ) -> None:
        self._dispatcher = dispatcher
        self._tailer = LogTailer(pool, database_url, topics=TOPICS)
        self._position = ThrottledPosition(Positions(pool), POSITION_NAME)
        self._redis = redis
        self._keys = keys
        self._executions = executions
        self._sync = sync
        self._wake = asyncio.Event()

    async def run(self) -> None:
        position = await self._position.get()
        await self._sync.wait_for(position, within=30)
        await self._reload(resend_all=False)
        await self._redis.set(self._keys.epoch(POSITION_NAME), "1")
        await asyncio.gather(self._follow(position), self._timers(), self._watch_redis())

    async def _follow(self, position: int) -> None:
        async for rows in self._tailer.batches(position):
            for row in rows:
                self._dispatcher.observe(row.decode())
            await self._dispatcher.send_due()
            await self._position.advance(rows[-1].position)
            self._wake.set()

    async def _timers(self) -> None:
        while True:
            self._wake.clear()
            delay = self._dispatcher.seconds_until_next(ceiling=1.0)
            if delay > 0:
                with contextlib.suppress(TimeoutError):  # a timer fell due: just send
                    await asyncio.wait_for(self._wake.wait(), delay)
            await self._dispatcher.send_due()

    async def _watch_redis(self) -> None:
        while True:
            await asyncio.sleep(EPOCH_CHECK_INTERVAL)
            try:
                if await self._redis.exists(self._keys.epoch(POSITION_NAME)):
                    continue
                log.warning("Redis lost its data: sending every PENDING execution again")
                await self._reload(resend_all=True)
                await self._redis.set(self._keys.epoch(POSITION_NAME), "1")
            except (RedisError, OSError) as error:
                log.debug("cannot check Redis: %s", error)

    async def _reload(self, *, resend_all: bool) -> None:
        """Timers from PENDING executions: retries and queued ones always, fresh ones if asked."""
        pending = every(self._executions.list_executions, ExecutionFilters(status="PENDING"))
        async for view in pending:
            await self._restore(view, resend_all=resend_all)
        self._wake.set()

    async def _restore(self, view: ExecutionView, *, resend_all: bool) -> None:
        if not view.attempts and not view.wait_for and not resend_all:
            return  # already sent when its request was dispatched (position covers it)
        due = view.next_attempt_at or datetime.now(UTC)
        run = DueRun(due, view.id, len(view.attempts) + 1)
        waiting_for = await self._unfinished(view.wait_for)
        self._dispatcher.schedule(run, wait_for=waiting_for)

    async def _unfinished(self, execution_id: UUID | None) -> UUID | None:
        if execution_id is None:
            return None
        other = await self._executions.get_execution(execution_id)
        if other is None or ExecutionStatus(other.status).is_terminal:
            return None
        return execution_id
