from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from application.dependencies import Dependencies
from application.queries import every
from application.reaper import reap_lost_attempts
from application.views import Page, PageRequest
from domain.execution import Execution
from domain.execution_values import AttemptOutcome, JobSnapshot, Trigger, TriggerType
from domain.retry import RetryPolicy
from interfaces.bootstrap.runtime import SystemClock
from tests.unit.http.fakes import Catalog, MemoryReadModels, MemoryStore

LEASE = 30.0


class Workers:
    async def live_workers(self, within_seconds: float) -> set[str]:
        return {"alive"}


async def running_on(store: MemoryStore, worker: str, started: datetime) -> Execution:
    snapshot = JobSnapshot(uuid4(), "j", "m", "a.py", 1000, RetryPolicy(retries=1))
    execution = Execution.request(uuid4(), snapshot, Trigger(TriggerType.MANUAL, "t"), at=started)
    execution.start_attempt(1, worker=worker, at=started)
    await store.save(execution)
    return execution


async def test_only_attempts_of_workers_gone_for_a_whole_lease_are_reported_lost() -> None:
    store = MemoryStore()
    now = datetime.now(UTC)
    lost = await running_on(store, "gone", now - timedelta(minutes=5))
    await running_on(store, "alive", now - timedelta(minutes=5))
    await running_on(store, "gone", now)  # may have registered after the liveness snapshot
    deps = Dependencies(store, SystemClock(), Catalog(), lambda: 0.5)

    assert await reap_lost_attempts(MemoryReadModels(store), Workers(), deps, LEASE) == 1
    assert store.current(lost.id).attempts[0].outcome is AttemptOutcome.WORKER_LOST


async def test_every_walks_a_list_query_page_by_page() -> None:
    asked: list[PageRequest] = []

    async def list_numbers(total: int, page: PageRequest) -> Page[int]:
        asked.append(page)
        start = int(page.cursor or 0)
        end = min(total, start + page.limit)
        return Page(range(start, end), str(end) if end < total else None)

    assert [n async for n in every(list_numbers, 5, batch=2)] == [0, 1, 2, 3, 4]
    assert [page.cursor for page in asked] == [None, "2", "4"]
