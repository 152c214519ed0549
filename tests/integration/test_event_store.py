"""The write side on real Postgres: replay, optimistic concurrency, group commit, history."""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from application.commands import CompleteAttempt, RequestCancel, StartAttempt
from application.dependencies import Dependencies
from application.errors import ConcurrencyConflict, NotFound
from application.executions import complete_attempt, request_cancel, start_attempt
from domain.execution import Execution
from domain.execution_values import (
    ErrorInfo,
    ExecutionStatus,
    JobSnapshot,
    Trigger,
    TriggerType,
)
from domain.job import Job, new_job_id
from domain.job_definition import JobDefinition, OverlapPolicy
from domain.retry import RetryPolicy
from infrastructure.eventstore.factory import build_application, postgres_env
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.modules.catalog import FilesystemModuleCatalog
from interfaces.bootstrap.runtime import SystemClock

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventsourcingStore]:
    opened = EventsourcingStore(build_application(postgres_env(database_url)))
    yield opened
    opened.close()


def a_job() -> Job:
    definition = JobDefinition(
        "sync",
        "m",
        "jobs/sync.py",
        schedule="*/5 * * * *",
        timezone="Europe/Berlin",
        config={"nested": {"k": [1, 2]}},
        overlap=OverlapPolicy.QUEUE,
        triggers=("a.*",),
    ).validated()
    return Job.create(new_job_id(), definition, enabled=True, actor="test", at=NOW)


async def test_an_aggregate_read_back_replays_to_the_same_state(store: EventsourcingStore) -> None:
    snapshot = JobSnapshot(uuid4(), "j", "m", "a.py", 1000, RetryPolicy(retries=2, jitter=False))
    execution = Execution.request(
        uuid4(), snapshot, Trigger(TriggerType.SCHEDULE, "s", NOW), at=NOW
    )
    execution.start_attempt(1, worker="w1", at=NOW)
    execution.fail_attempt(1, ErrorInfo("E", "boom", "stack"), at=NOW, sample=0.5)
    execution.start_attempt(2, worker="w2", at=NOW)
    job = a_job()
    job.disable(actor="test", at=NOW)
    expected = [state(job), state(execution)]

    await store.save(job, execution)
    loaded = [await store.load(job.id, Job), await store.load(execution.id, Execution)]

    assert [state(aggregate) for aggregate in loaded] == expected


def state(aggregate: object) -> dict[str, object]:
    """Everything an aggregate knows, except events not yet saved."""
    fields = copy.deepcopy(vars(aggregate))
    fields.pop("_pending_events")
    return fields


async def test_a_concurrent_stale_update_gets_the_conflict_error(store: EventsourcingStore) -> None:
    job = a_job()
    await store.save(job)
    first, second = await store.load(job.id, Job), await store.load(job.id, Job)
    first.disable(actor="alice", at=NOW)
    second.update(second.definition.with_changes(name="renamed"), actor="bob", at=NOW)

    results = await asyncio.gather(store.save(first), store.save(second), return_exceptions=True)

    assert sum(isinstance(result, ConcurrencyConflict) for result in results) == 1
    assert sum(isinstance(result, int) for result in results) == 1


async def test_creating_an_aggregate_whose_id_exists_conflicts(store: EventsourcingStore) -> None:
    job = a_job()
    await store.save(job)
    twin = Job.create(job.id, job.definition, enabled=True, actor="test", at=NOW)

    with pytest.raises(ConcurrencyConflict):
        await store.save(twin)


async def test_conflicts_in_a_group_commit_fail_only_their_own_command(
    store: EventsourcingStore,
) -> None:
    existing = [a_job() for _ in range(20)]
    await asyncio.gather(*(store.save(job) for job in existing))
    clashing = [
        Job.create(job.id, job.definition, enabled=True, actor="t", at=NOW) for job in existing
    ]
    fresh = [a_job() for _ in range(20)]

    results = await asyncio.gather(
        *(store.save(job) for job in clashing + fresh), return_exceptions=True
    )

    assert all(isinstance(result, ConcurrencyConflict) for result in results[:20])
    assert all(isinstance(result, int) for result in results[20:])
    assert len(set(results[20:])) == 20  # each saved at its own position


async def test_history_lists_every_change_with_its_actor(store: EventsourcingStore) -> None:
    job = a_job()
    job.disable(actor="alice", at=NOW)
    job.enable(actor="bob", at=NOW)
    await store.save(job)

    history = await store.history(job.id)

    assert [(change.type, change.actor) for change in history] == [
        ("job.created", "test"),
        ("job.disabled", "alice"),
        ("job.enabled", "bob"),
    ]


async def test_an_unknown_id_is_not_found(store: EventsourcingStore) -> None:
    with pytest.raises(NotFound):
        await store.load(uuid4(), Job)


async def test_an_outcome_after_a_cancel_from_elsewhere_keeps_both(database_url: str) -> None:
    """The worker records the outcome on the execution its claim saved; the cancel request
    another process stored in between is neither lost nor overwritten."""
    worker = EventsourcingStore(build_application(postgres_env(database_url)), keep=(Execution,))
    api = EventsourcingStore(build_application(postgres_env(database_url)))
    try:
        on_worker, on_api = (
            Dependencies(store, SystemClock(), FilesystemModuleCatalog(()), random.random)
            for store in (worker, api)
        )
        snapshot = JobSnapshot(uuid4(), "j", "m", "a.py", 1000, RetryPolicy(retries=0))
        execution = Execution.request(uuid4(), snapshot, Trigger(TriggerType.MANUAL, "t"), at=NOW)
        await api.save(execution)

        await start_attempt(StartAttempt(execution.id, 1, "w1"), on_worker)
        await request_cancel(RequestCancel(execution.id, "operator"), on_api)
        await complete_attempt(CompleteAttempt(execution.id, 1, {"done": True}), on_worker)

        history = [entry.type for entry in await api.history(execution.id)]
        assert history == [
            "execution.requested",
            "execution.attempt-started",
            "execution.cancel-requested",
            "execution.completed",
        ]
        stored = await api.load(execution.id, Execution)
        assert (stored.status, stored.result) == (ExecutionStatus.COMPLETED, {"done": True})
    finally:
        worker.close()
        api.close()
