"""RunExecution commands on a taskiq-redis stream broker, with the gaps taskiq leaves filled.

taskiq's stream broker reclaims a dead consumer's messages only after a read that returned
something, and loses its consumer group with Redis's data. This subclass reads one message at
a time (nothing stranded in a dead consumer's hands), reclaims idle messages on a timer, and
recreates the group at `0` when Redis forgot it. A reclaimed message of a still-running
attempt is harmless: the worker's claim finds the attempt taken and drops it.

Acks ride with the next read, in one round trip. Acking late is safe for the same reason:
a message is reclaimed only after `idle_timeout` (a minute or more), and a redelivered run
is dropped by its claim.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from typing import Any
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from taskiq import AckableMessage
from taskiq.message import TaskiqMessage
from taskiq_redis import RedisStreamBroker

from infrastructure.redis.keys import RedisKeys

log = logging.getLogger(__name__)
RUN_EXECUTION = "almanac.run_execution"
RECLAIM_INTERVAL = 5.0


class AlmanacStreamBroker(RedisStreamBroker):
    """xread_count=1, acks sent with the next read, reclaim on a timer, consumer group
    recreated when missing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unacked: list[Any] = []  # entry ids to ack with the next read

    async def _declare_consumer_group(self) -> None:
        async with Redis(connection_pool=self.connection_pool) as redis:
            try:
                await redis.xgroup_create(
                    self.queue_name, self.consumer_group_name, id="0", mkstream=True
                )
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        last_reclaim = time.monotonic()
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                for message in await self._read(redis):
                    yield message
                if time.monotonic() - last_reclaim >= RECLAIM_INTERVAL:
                    last_reclaim = time.monotonic()
                    for message in await self._reclaim(redis):
                        yield message

    async def _read(self, redis: Redis) -> list[AckableMessage]:
        acks, self._unacked = self._unacked, []
        pipe = redis.pipeline(transaction=False)
        if acks:
            pipe.xack(self.queue_name, self.consumer_group_name, *acks)
        pipe.xreadgroup(
            self.consumer_group_name,
            self.consumer_name,
            {self.queue_name: ">"},
            block=self.block,
            count=1,
        )
        try:
            fetched: Any = (await pipe.execute())[-1]
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            log.warning("the workers' consumer group is gone (Redis lost data?); recreating it")
            await self._declare_consumer_group()
            return []
        return [
            self._message(entry_id, data)
            for _, entries in fetched or []
            for entry_id, data in entries
        ]

    async def _reclaim(self, redis: Redis) -> list[AckableMessage]:
        try:
            claimed: Any = await redis.xautoclaim(
                self.queue_name,
                self.consumer_group_name,
                self.consumer_name,
                min_idle_time=self.idle_timeout,
                count=10,
            )
        except ResponseError:
            return []
        return [self._message(entry_id, data) for entry_id, data in claimed[1] if data]

    def _message(self, entry_id: Any, data: Any) -> AckableMessage:
        return AckableMessage(data=data[b"data"], ack=functools.partial(self._ack, entry_id))

    async def _ack(self, entry_id: Any) -> None:
        """Kept for the next read (see the module's note): taskiq's own ack is a round trip,
        and a client built, per message."""
        self._unacked.append(entry_id)

    async def shutdown(self) -> None:
        if self._unacked:
            acks, self._unacked = self._unacked, []
            with contextlib.suppress(RedisError):  # unacked runs come back; claims drop them
                async with Redis(connection_pool=self.connection_pool) as redis:
                    await redis.xack(self.queue_name, self.consumer_group_name, *acks)
        await super().shutdown()


def build_broker(redis_url: str, keys: RedisKeys, idle_timeout_ms: int) -> AlmanacStreamBroker:
    """One broker per process; messages are JSON (taskiq's default serializer), never pickle."""
    return AlmanacStreamBroker(
        redis_url,
        queue_name=keys.tasks,
        consumer_group_name=keys.task_group,
        xread_block=1000,
        xread_count=1,
        idle_timeout=idle_timeout_ms,
        maxlen=10_000_000,
    )


class TaskiqCommandSender:
    """Implements application.ports.CommandSender with taskiq task ids `<execution>:<attempt>`."""

    def __init__(self, broker: AlmanacStreamBroker) -> None:
        self._broker = broker  # producers need only the task's name, never its function

    async def send_runs(self, runs: Sequence[tuple[UUID, int]]) -> None:
        """The same messages `kiq` sends, in one pipelined round trip."""
        if not runs:
            return
        async with Redis(connection_pool=self._broker.connection_pool) as redis:
            pipe = redis.pipeline(transaction=False)
            for execution_id, attempt in runs:
                message = self._broker.formatter.dumps(_message(execution_id, attempt))
                pipe.xadd(
                    self._broker.queue_name,
                    {b"data": message.message},
                    maxlen=self._broker.maxlen,
                    approximate=True,
                )
            await pipe.execute()


def _message(execution_id: UUID, attempt: int) -> TaskiqMessage:
    return TaskiqMessage(
        task_id=f"{execution_id}:{attempt}",
        task_name=RUN_EXECUTION,
        labels={},
        labels_types={},
        args=[],
        kwargs={"execution_id": str(execution_id), "attempt": attempt},
    )
