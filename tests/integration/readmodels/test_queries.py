"""Queries: filters, keyset pages that stay correct under inserts, statistics, overview, logs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from application.views import EventFilters, ExecutionFilters, JobFilters, PageRequest
from domain.bus_event import BusEvent
from domain.errors import InvalidValue
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.readmodels.event_queries import PostgresEventQueries
from infrastructure.readmodels.execution_queries import PostgresExecutionQueries
from infrastructure.readmodels.job_queries import PostgresJobQueries, list_query
from infrastructure.readmodels.overview_queries import PostgresOverviewQueries
from tests.integration.readmodels.builders import at, complete, fail_once, new_job, project, request


async def test_jobs_filter_by_enabled_module_and_name_and_page_by_name(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    module = f"m-{uuid4().hex[:8]}"
    names = [f"job-{n:02d}" for n in range(12)] + ["Backup_50%"]
    jobs = [new_job(name, enabled=n % 3 != 0, module_id=module) for n, name in enumerate(names)]
    await store.save(*jobs)
    await project(pool)
    queries = PostgresJobQueries(pool)

    seen, cursor = [], None
    while True:
        page = await queries.list_jobs(JobFilters(module_id=module), PageRequest(5, cursor))
        seen += [job.name for job in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == sorted(names)
    enabled = await queries.list_jobs(JobFilters(True, module), PageRequest(100))
    assert {job.name for job in enabled.items} == {j.definition.name for j in jobs if j.enabled}
    found = await queries.list_jobs(JobFilters(module_id=module, q="_50%"), PageRequest(100))
    assert [job.name for job in found.items] == ["Backup_50%"]
    none = await queries.list_jobs(JobFilters(module_id=module, q="job-0_"), PageRequest(100))
    assert none.items == []


async def test_a_page_of_a_thousand_jobs_is_one_indexed_query(
    fresh_pool: asyncpg.Pool, fresh_store: EventsourcingStore
) -> None:
    await fresh_store.save(*[new_job(f"job-{n:04d}") for n in range(1000)])
    await project(fresh_pool)
    await fresh_pool.execute("ANALYZE rm_jobs; ANALYZE rm_job_runs")
    queries = PostgresJobQueries(fresh_pool)
    second = (await queries.list_jobs(JobFilters(), PageRequest(50))).next_cursor

    sql, *args = list_query(JobFilters(enabled=True), PageRequest(50, second))
    plan = await fresh_pool.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)

    scans = dict(_scans(plan[0]["Plan"]))
    assert scans["rm_jobs"] == ("Index Scan", "rm_jobs_by_name")


def _scans(node: dict[str, Any]) -> Iterator[tuple[str, tuple[str, str | None]]]:
    if "Relation Name" in node:
        yield node["Relation Name"], (node["Node Type"], node.get("Index Name"))
    for child in node.get("Plans", []):
        yield from _scans(child)


async def test_a_bad_cursor_is_an_invalid_value(pool: asyncpg.Pool) -> None:
    with pytest.raises(InvalidValue):
        await PostgresJobQueries(pool).list_jobs(JobFilters(), PageRequest(5, "garbage"))


async def test_execution_pages_stay_correct_while_rows_are_inserted(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    job = new_job()
    first = [request(job, n) for n in range(23)]
    await store.save(job, *first)
    await project(pool)
    queries = PostgresExecutionQueries(pool)
    filters = ExecutionFilters(job_id=job.id)

    seen, cursor, extra = [], None, 100
    while True:
        page = await queries.list_executions(filters, PageRequest(5, cursor))
        seen += [item.id for item in page.items]
        newer = [request(job, extra + n) for n in range(3)]  # newer than every page so far
        extra += 10
        await store.save(*newer)
        await project(pool)
        if (cursor := page.next_cursor) is None:
            break

    assert seen == [execution.id for execution in reversed(first)]


async def test_executions_filter_by_status(pool: asyncpg.Pool, store: EventsourcingStore) -> None:
    job = new_job()
    done, failing = request(job, 1), request(job, 2)
    complete(done, 3, 1)
    fail_once(failing, 3)
    await store.save(job, done, failing)
    await project(pool)
    queries = PostgresExecutionQueries(pool)

    completed = await queries.list_executions(ExecutionFilters("COMPLETED", job.id), PageRequest())
    pending = await queries.list_executions(ExecutionFilters("PENDING", job.id), PageRequest())

    assert [item.id for item in completed.items] == [done.id]
    assert [(item.id, item.next_attempt_at) for item in pending.items] == [
        (failing.id, at(4.5))  # base 500 ms, no jitter
    ]


async def test_execution_logs_page_by_sequence(pool: asyncpg.Pool) -> None:
    execution_id = uuid4()
    await pool.executemany(
        "INSERT INTO execution_logs (execution_id, attempt, at, level, message, fields) "
        "VALUES ($1, 1, $2, 'info', $3, $4)",
        [(execution_id, at(n), f"line {n}", {"n": n}) for n in range(5)],
    )
    queries = PostgresExecutionQueries(pool)

    head = await queries.execution_logs(execution_id, limit=2)
    rest = await queries.execution_logs(execution_id, after_seq=head[-1].seq)

    assert [line.message for line in [*head, *rest]] == [f"line {n}" for n in range(5)]
    assert rest[0].fields == {"n": 2}
    assert rest[0].execution_id == execution_id


async def test_events_filter_by_name_source_pattern_and_time(
    pool: asyncpg.Pool, store: EventsourcingStore
) -> None:
    tag = f"t{uuid4().hex[:8]}"
    now = datetime.now(UTC)
    names = [f"{tag}.order.created", f"{tag}.order.line.created", f"{tag}.user", f"{tag}.order"]
    emitted = [
        BusEvent.emit(name, {"i": i}, source=f"{tag}-src{i % 2}", at=now - timedelta(hours=i))
        for i, name in enumerate(names)
    ]
    for event in emitted:
        await store.save(event)
    await project(pool)
    queries = PostgresEventQueries(pool)

    async def names_for(filters: EventFilters, limit: int = 50) -> list[str]:
        return [e.name for e in (await queries.list_events(filters, PageRequest(limit))).items]

    assert await names_for(EventFilters(pattern=f"{tag}.order.*")) == [f"{tag}.order.created"]
    assert await names_for(EventFilters(pattern=f"{tag}.order.**")) == [
        names[3],
        names[1],
        names[0],
    ]
    assert await names_for(EventFilters(name=f"{tag}.user")) == [f"{tag}.user"]
    assert await names_for(EventFilters(source=f"{tag}-src1")) == [names[3], names[1]]
    window = EventFilters(pattern=f"{tag}.**", since=now - timedelta(hours=2.5), until=now)
    assert await names_for(window) == [names[2], names[1], names[0]]
    first = await queries.list_events(EventFilters(pattern=f"{tag}.**"), PageRequest(3))
    assert first.next_cursor is not None
    second = await queries.list_events(
        EventFilters(pattern=f"{tag}.**"), PageRequest(3, first.next_cursor)
    )
    assert [e.name for e in second.items] == [names[0]]
    assert second.next_cursor is None
    recent = await queries.recent_events(2)
    assert [e.position for e in recent] == sorted((e.position for e in recent), reverse=True)


async def test_event_stats_count_per_minute_day_and_top(
    fresh_pool: asyncpg.Pool, fresh_store: EventsourcingStore
) -> None:
    now = datetime(2026, 3, 1, 12, 30, 15, tzinfo=UTC)
    plan = [
        ("a.x", "s1", 0),
        ("a.x", "s1", 0),
        ("a.y", "s2", 1),
        ("a.x", "s2", 59),
        ("b", "s1", 61),
    ]
    plan += [("old", "s3", 60 * 30)]  # thirty hours ago
    for name, source, minutes in plan:
        await fresh_store.save(
            BusEvent.emit(name, {}, source=source, at=now - timedelta(minutes=minutes))
        )
    await project(fresh_pool)

    stats = await PostgresEventQueries(fresh_pool).event_stats(now)

    assert (stats.total, stats.last24h) == (6, 5)
    per_minute = {point.minute: point.count for point in stats.per_minute}
    assert per_minute[now.replace(second=0)] == 2
    assert per_minute[now.replace(second=0) - timedelta(minutes=1)] == 1
    assert per_minute[now.replace(second=0) - timedelta(minutes=59)] == 1
    assert sum(per_minute.values()) == 4
    assert len(per_minute) == 60
    assert [(top.name, top.count) for top in stats.top_events] == [
        ("a.x", 3),
        ("a.y", 1),
        ("b", 1),
        ("old", 1),
    ]
    assert next((top.name, top.count) for top in stats.top_sources) == ("s1", 3)


async def test_the_overview_counts_the_last_hour_and_live_workers(
    fresh_pool: asyncpg.Pool, fresh_store: EventsourcingStore
) -> None:
    now = at(3600)
    job = new_job()
    pending = [request(job, n) for n in range(5)]
    done, failed, running, old = request(job, 1), request(job, 2), request(job, 3), request(job, 0)
    complete(done, 10, 2)
    for start in (10, 20, 30):
        fail_once(failed, start)
    running.start_attempt(1, worker="w", at=at(40))
    complete(old, -7200, 1)  # finished more than an hour before `now`
    await fresh_store.save(job, *pending, done, failed, running, old)
    await fresh_store.save(BusEvent.emit("x", {}, source="s", at=now - timedelta(seconds=10)))
    workers = [("w1", 5, 2, now), ("w2", 3, 1, now - timedelta(seconds=5))]
    workers += [("dead", 9, 9, now - timedelta(minutes=5))]
    await fresh_pool.executemany(
        "INSERT INTO almanac_workers (worker_id, hostname, pid, concurrency, busy, last_seen) "
        "VALUES ($1, 'h', 1, $2, $3, $4)",
        workers,
    )
    await project(fresh_pool)

    overview = await PostgresOverviewQueries(fresh_pool).overview(now)

    assert (overview.pending, overview.running) == (5, 1)
    assert (overview.completed_last_hour, overview.failed_last_hour) == (1, 1)
    assert overview.success_rate == 0.5
    assert overview.average_duration_ms == (2000 + 21_000) // 2
    assert overview.events_last_minute == 1
    assert (overview.workers, overview.worker_slots, overview.busy_slots) == (2, 8, 3)
