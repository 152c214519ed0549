"""Projections turn real stored events into exactly the views the API returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg

from application.jobs import snapshot_of
from application.views import (
    AttemptView,
    BackoffView,
    ErrorView,
    ExecutionFilters,
    ExecutionSummary,
    JobDefinitionSnapshot,
    JobFilters,
    MisfireView,
    PageRequest,
    RunCounts,
    TriggerView,
)
from domain.bus_event import BusEvent
from domain.execution import WORKER_LOST, Execution
from domain.execution_values import AttemptOutcome, Trigger, TriggerType
from domain.module import Module, ModuleManifest
from domain.skipped_occurrences import SkippedOccurrences, SkipReason
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.readmodels.event_queries import PostgresEventQueries
from infrastructure.readmodels.execution_queries import PostgresExecutionQueries
from infrastructure.readmodels.job_queries import PostgresJobQueries
from infrastructure.readmodels.module_queries import PostgresModuleQueries
from tests.integration.readmodels.builders import (
    BOOM,
    T0,
    at,
    complete,
    contents,
    definition,
    fail_once,
    new_job,
    project,
    request,
)

NOW = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


async def test_a_job_view_carries_its_whole_current_definition(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    job = new_job(f"report-{uuid4().hex[:6]}")
    job.update(
        definition(job.definition.name, description="v2", config={"a": 1}), actor="bob", at=at(60)
    )
    job.disable(actor="carol", at=at(120))
    job.enable(actor="carol", at=at(180))
    await store.save(job)
    await project(pool)

    view = await PostgresJobQueries(pool, clock=lambda: NOW).get_job(job.id)

    assert view is not None
    assert (view.id, view.name, view.description) == (job.id, job.definition.name, "v2")
    assert (view.module_id, view.handler) == ("reports", "jobs/report.py")
    assert (view.schedule, view.timezone, view.enabled) == ("0 2 * * *", "Europe/Berlin", True)
    assert (view.timeout, view.retries) == (30_000, 2)
    assert view.backoff == BackoffView(500, 4000, False)
    assert view.config == {"a": 1}
    assert view.overlap == "skip"
    assert view.misfire == MisfireView(5000, "all", 7)
    assert (tuple(view.triggers), tuple(view.webhooks)) == (
        ("order.*",),
        ("https://hooks.example.com/x",),
    )
    assert (view.version, view.created_at, view.updated_at) == (4, T0, at(180))
    assert view.next_run_at == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 02:00 in Berlin (UTC+1)
    assert (view.last_execution, view.runs, view.average_duration_ms) == (None, RunCounts(), None)


async def test_a_disabled_job_has_no_next_run_and_a_deleted_job_is_gone(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    disabled, deleted = new_job(enabled=False), new_job()
    deleted.delete(actor="alice", at=at(5))
    await store.save(disabled, deleted)
    await project(pool)
    jobs = PostgresJobQueries(pool)

    assert (await jobs.get_job(disabled.id)).next_run_at is None  # type: ignore[union-attr]
    assert await jobs.get_job(deleted.id) is None
    listed = await jobs.list_jobs(JobFilters(module_id="reports"), PageRequest(limit=500))
    assert deleted.id not in {item.id for item in listed.items}


async def test_a_run_saved_in_one_batch_shows_every_attempt_and_counts_once(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    job = new_job()
    execution = request(job, 10)
    fail_once(execution, 11)  # attempt 1 fails at 12, retry due at 12.5
    complete(execution, 20, 2.5, result={"rows": 3})
    await store.save(job, execution)  # requested, started, failed, started, completed together
    await project(pool)

    view = await PostgresExecutionQueries(pool).get_execution(execution.id)

    assert view is not None
    assert (view.id, view.job_id, view.job_name) == (execution.id, job.id, "nightly-report")
    assert (view.status, view.attempt, view.max_attempts) == ("COMPLETED", 2, 3)
    assert view.trigger == TriggerView("manual", "alice", None, None)
    assert (view.created_at, view.started_at, view.finished_at) == (at(10), at(11), at(22.5))
    assert (view.duration_ms, view.next_attempt_at, view.result) == (11_500, None, {"rows": 3})
    assert view.error is None  # the run succeeded; the failure belongs to its attempt
    failure = ErrorView(BOOM.type, BOOM.message, BOOM.stack)
    assert list(view.attempts) == [
        AttemptView(1, "w1", at(11), at(12), AttemptOutcome.FAILED.value, failure, 1000),
        AttemptView(2, "w1", at(20), at(22.5), "completed", None, 2500),
    ]
    assert (view.cancel_requested, view.wait_for, view.updated_at) == (False, None, at(22.5))
    snapshot = JobDefinitionSnapshot(
        "reports", "jobs/report.py", 30_000, 2, job.definition.config, 1
    )
    assert view.job == snapshot
    job_view = await PostgresJobQueries(pool).get_job(job.id)
    assert job_view is not None
    assert job_view.runs == RunCounts(total=1, completed=1)
    assert job_view.last_execution == ExecutionSummary(
        execution.id, "COMPLETED", at(10), at(22.5), 11_500
    )
    assert job_view.average_duration_ms == 11_500


async def test_run_counts_and_the_last_run_follow_later_batches(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    job = new_job()
    first, second, third = request(job, 1), request(job, 2), request(job, 3)
    await store.save(job, first, second)
    await project(pool)
    complete(first, 5, 1)
    second.request_cancel(actor="bob", at=at(6))
    await store.save(first, second)
    await project(pool)
    for _ in range(3):
        fail_once(third, 10 + _ * 10)
    await store.save(third)
    await project(pool)

    view = await PostgresJobQueries(pool).get_job(job.id)

    assert view is not None
    assert view.runs == RunCounts(total=3, completed=1, failed=1, cancelled=1)
    assert view.last_execution == ExecutionSummary(third.id, "FAILED", at(3), at(31), 21_000)
    assert view.average_duration_ms == (1000 + 21_000) // 2
    runs = await PostgresExecutionQueries(pool).list_executions(
        ExecutionFilters(job_id=job.id), PageRequest(limit=10)
    )
    assert [item.id for item in runs.items] == [third.id, second.id, first.id]
    assert [item.status for item in runs.items] == ["FAILED", "CANCELLED", "COMPLETED"]


async def test_bus_events_and_their_statistics(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    source = f"shop-{uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(microsecond=0)
    emitted = [
        BusEvent.emit("order.created", {"n": n}, source=source, at=now - timedelta(minutes=n % 3))
        for n in range(6)
    ]
    positions = [await store.save(event) for event in emitted]
    await project(pool)
    events = PostgresEventQueries(pool)

    view = await events.get_event(emitted[0].id)
    assert view is not None
    assert (view.name, view.source, view.payload) == ("order.created", source, {"n": 0})
    assert (view.created_at, view.position) == (now, positions[0])
    stats = await events.event_stats(now)
    assert len(stats.per_minute) == 60
    assert stats.per_minute[-1].minute == now.replace(second=0)
    assert stats.total >= 6
    assert stats.last24h >= 6
    assert source in {top.name for top in stats.top_sources} or len(stats.top_sources) == 10


async def test_skipped_occurrences_appear_in_the_job_history_in_time_order(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    job = new_job()
    await store.save(job)
    skipped = SkippedOccurrences.record(
        job.id, SkipReason.OVERLAP, [at(60), at(120), at(180)], at=at(181)
    )
    job.disable(actor="bob", at=at(300))
    await store.save(skipped, job)
    await project(pool)

    history = await PostgresJobQueries(pool).job_history(job.id)

    assert [entry.type for entry in history] == [
        "job.created",
        "job.occurrences-skipped",
        "job.disabled",
    ]
    created, skip, disabled = history
    assert (created.actor, created.version, created.at) == ("alice", 1, T0)
    assert created.data["definition"]["name"] == "nightly-report"
    assert "actor" not in created.data
    assert skip.data == {
        "reason": "overlap",
        "first": "2026-03-01T12:01:00Z",
        "last": "2026-03-01T12:03:00Z",
        "count": 3,
    }
    assert (disabled.actor, disabled.version, disabled.at) == ("bob", 2, at(300))


async def test_modules_list_their_jobs_and_handler_files(
    pool: asyncpg.Pool, store: EventsourcingStore, tmp_path: Path
) -> None:
    (tmp_path / "jobs" / "__pycache__").mkdir(parents=True)
    for name in ("jobs/sync.py", "jobs/__pycache__/sync.cpython-312.py", "helpers.py", "README"):
        (tmp_path / name).write_text("")
    name = f"mod-{uuid4().hex[:8]}"
    manifest = ModuleManifest(name, "1.0.0", str(tmp_path), "d1", jobs=("sync",))
    module = Module.register(manifest, actor="module-sync", at=T0)
    module.update(
        ModuleManifest(name, "1.1.0", str(tmp_path), "d2", ("sync", "b")), actor="x", at=at(1)
    )
    module.disable(actor="bob", at=at(2))
    await store.save(module)
    await project(pool)

    modules = {m.name: m for m in await PostgresModuleQueries(pool).list_modules()}

    view = modules[name]
    assert (view.version, view.path, view.enabled) == ("1.1.0", str(tmp_path), False)
    assert tuple(view.jobs) == ("sync", "b")
    assert tuple(view.handlers) == ("helpers.py", "jobs/sync.py")


async def test_one_event_per_batch_and_a_rebuild_give_identical_tables(
    fresh_database_url: str, fresh_pool: asyncpg.Pool, fresh_store: EventsourcingStore
) -> None:
    from infrastructure.readmodels.rebuild import rebuild_projections
    from infrastructure.readmodels.registry import PROJECTIONS

    job = new_job()
    runs = [request(job, n) for n in range(4)]
    complete(runs[0], 5, 1, result=[1, 2])
    fail_once(runs[1], 6)
    fail_once(runs[1], 8)
    runs[2].request_cancel(actor="bob", at=at(9))
    event = BusEvent.emit("a.b", {}, source="s", at=at(3))
    await fresh_store.save(job, *runs, event)
    await project(fresh_pool, batch_size=1)
    one_by_one = await contents(fresh_pool)

    await rebuild_projections(fresh_pool, PROJECTIONS)

    assert await contents(fresh_pool) == one_by_one
    assert len(one_by_one["rm_executions"]) == 4


async def test_a_scheduled_run_shows_its_instant_what_it_waits_for_and_its_retry_time(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    job = new_job()
    previous = uuid4()
    trigger = Trigger(TriggerType.SCHEDULE, "scheduler", scheduled_for=at(60))
    run = Execution.request(uuid4(), snapshot_of(job), trigger, at=at(61), wait_for=previous)
    run.start_attempt(1, worker="w9", at=at(62))
    run.report_worker_lost(1, worker="w9", at=at(70), sample=0.5)
    await store.save(job, run)
    await project(pool)

    view = await PostgresExecutionQueries(pool).get_execution(run.id)

    assert view is not None
    assert view.trigger == TriggerView("schedule", "scheduler", at(60), None)
    assert (view.status, view.wait_for, view.next_attempt_at) == ("PENDING", previous, at(70.5))
    assert view.attempts[0].outcome == "worker-lost"
    assert view.error == ErrorView("WorkerLost", WORKER_LOST.message, "")
