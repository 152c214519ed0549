"""Followers of the event log ride out a failed read instead of ending."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import asyncpg

from domain.job import Job, new_job_id
from domain.job_definition import JobDefinition
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.postgres.log_tailer import LogTailer


class FlakyPool:
    """Its first query fails as a restarting Postgres would make it fail."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.failures = 1

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        if self.failures:
            self.failures -= 1
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        return await self.pool.fetch(query, *args)


async def test_a_failed_read_is_retried_from_the_same_position(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore
) -> None:
    start = await store.head()
    definition = JobDefinition("tailed", "m", "jobs/a.py").validated()
    now = datetime.now(UTC)
    saved = [
        await store.save(Job.create(new_job_id(), definition, enabled=True, actor="t", at=now))
        for _ in range(2)
    ]
    flaky = FlakyPool(pool)
    tailer = LogTailer(cast(asyncpg.Pool, flaky), database_url, poll_interval=0.01)

    batches = tailer.batches(after=start)
    first = await anext(batches)
    await batches.aclose()

    assert flaky.failures == 0
    assert [row.position for row in first][:2] == saved
