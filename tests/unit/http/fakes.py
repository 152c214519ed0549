"""In-memory fakes of the ports the HTTP interface uses: a store and read models over it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.dependencies import Dependencies, JobDefaults
from application.errors import ConcurrencyConflict, NotFound
from application.views import (
    BusEventView,
    EventFilters,
    EventStats,
    ExecutionFilters,
    ExecutionView,
    HistoryEntry,
    JobFilters,
    JobView,
    LogLine,
    NameCount,
    Overview,
    Page,
    PageRequest,
)
from domain.bus_event import BusEvent
from domain.execution import Execution
from domain.job import Job
from infrastructure.eventstore.mapper import history_entry
from interfaces.bootstrap.runtime import SystemClock
from interfaces.http.render import event_view, execution_view, job_view
from interfaces.http.services import ApiServices

MODULE = "sample"
HANDLER = "jobs/noop.py"


class MemoryStore:
    """EventStore over lists of events; positions count every saved event."""

    def __init__(self) -> None:
        self.events: dict[UUID, list[Any]] = defaultdict(list)
        self.position = 0
        self.failure: Exception | None = None

    async def load[A: Aggregate](self, aggregate_id: UUID, kind: type[A]) -> A:
        aggregate = self.current(aggregate_id)
        if not isinstance(aggregate, kind):
            raise NotFound(kind.__name__.lower(), aggregate_id)
        return aggregate

    async def load_recent[A: Aggregate](self, aggregate_id: UUID, kind: type[A]) -> A:
        return await self.load(aggregate_id, kind)  # it keeps nothing: every load is fresh

    async def save(self, *aggregates: Aggregate) -> int:
        if self.failure is not None:
            raise self.failure
        new = [event for aggregate in aggregates for event in aggregate.collect_events()]
        for event in new:
            if len(self.events[event.originator_id]) + 1 != event.originator_version:
                raise ConcurrencyConflict(str(event.originator_id))
            self.events[event.originator_id].append(event)
            self.position += 1
        return self.position if new else 0

    async def save_each(self, aggregates: Sequence[Aggregate]) -> list[int | None]:
        positions: list[int | None] = []
        for aggregate in aggregates:
            try:
                positions.append(await self.save(aggregate))
            except ConcurrencyConflict:
                positions.append(None)
        return positions

    async def history(self, aggregate_id: UUID) -> list[HistoryEntry]:
        return [history_entry(event) for event in self.events.get(aggregate_id, [])]

    async def head(self) -> int:
        return self.position

    def current(self, aggregate_id: UUID) -> Any:
        aggregate = None
        for event in self.events.get(aggregate_id, []):
            aggregate = event.mutate(aggregate)
        return aggregate

    def all_of[A](self, kind: type[A]) -> Iterator[A]:
        for aggregate_id in list(self.events):
            aggregate = self.current(aggregate_id)
            if isinstance(aggregate, kind):
                yield aggregate


class ManualClock:
    """Stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class Catalog:
    """One module, `sample`, with one handler file."""

    def problems_with_handler(self, module_id: str, handler: str) -> list[tuple[str, str]]:
        if module_id != MODULE:
            return [("moduleId", f"unknown module {module_id!r}")]
        if handler != HANDLER:
            return [("handler", f"no handler file {handler!r}")]
        return []

    def event_schema_problems(self, name: str, payload: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []


def _page[T](items: list[T], page: PageRequest) -> Page[T]:
    start = int(page.cursor) if page.cursor and page.cursor.isdigit() else 0
    chunk = items[start : start + page.limit]
    more = start + page.limit < len(items)
    return Page(chunk, str(start + page.limit) if more else None)


@dataclass
class MemoryReadModels:
    """Job, execution and event queries computed from the store's current aggregates."""

    store: MemoryStore
    logs: list[LogLine] = field(default_factory=list)
    failure: Exception | None = None
    # Single reads find nothing yet, as when the projections lag beyond read-your-writes' wait.
    lagging: bool = False

    def _check(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def get_job(self, job_id: UUID) -> JobView | None:
        self._check()
        job = None if self.lagging else self.store.current(job_id)
        return job_view(job) if isinstance(job, Job) and not job.deleted else None

    async def list_jobs(self, filters: JobFilters, page: PageRequest) -> Page[JobView]:
        self._check()
        views = [job_view(j) for j in self.store.all_of(Job) if not j.deleted]
        views = [
            v
            for v in views
            if (filters.enabled is None or v.enabled == filters.enabled)
            and (filters.module_id is None or v.module_id == filters.module_id)
            and (filters.q is None or filters.q.lower() in v.name.lower())
        ]
        return _page(sorted(views, key=lambda v: v.created_at, reverse=True), page)

    async def job_history(self, job_id: UUID) -> Sequence[HistoryEntry]:
        return await self.store.history(job_id)

    async def get_execution(self, execution_id: UUID) -> ExecutionView | None:
        self._check()
        execution = None if self.lagging else self.store.current(execution_id)
        return execution_view(execution) if isinstance(execution, Execution) else None

    async def list_executions(
        self, filters: ExecutionFilters, page: PageRequest
    ) -> Page[ExecutionView]:
        views = [execution_view(e) for e in self.store.all_of(Execution)]
        views = [
            v
            for v in views
            if (filters.status is None or v.status == filters.status)
            and (filters.job_id is None or v.job_id == filters.job_id)
        ]
        return _page(sorted(views, key=lambda v: v.created_at, reverse=True), page)

    async def execution_logs(
        self, execution_id: UUID, after_seq: int = 0, limit: int = 1000
    ) -> Sequence[LogLine]:
        lines = [x for x in self.logs if x.execution_id == execution_id and x.seq > after_seq]
        return lines[:limit]

    async def get_event(self, event_id: UUID) -> BusEventView | None:
        event = None if self.lagging else self.store.current(event_id)
        return _event_view(event) if isinstance(event, BusEvent) else None

    async def list_events(self, filters: EventFilters, page: PageRequest) -> Page[BusEventView]:
        views = [_event_view(e) for e in self.store.all_of(BusEvent)]
        views = [v for v in views if filters.name is None or v.name == filters.name]
        return _page(sorted(views, key=lambda v: v.position, reverse=True), page)

    async def recent_events(self, limit: int) -> Sequence[BusEventView]:
        return (await self.list_events(EventFilters(), PageRequest(limit))).items

    async def event_stats(self, now: datetime) -> EventStats:
        events = [_event_view(e) for e in self.store.all_of(BusEvent)]
        names: dict[str, int] = defaultdict(int)
        for view in events:
            names[view.name] += 1
        tops = [NameCount(name, count) for name, count in names.items()]
        return EventStats(len(events), len(events), [], tops, [NameCount("api", len(events))])

    async def delete_events_before(self, cutoff: datetime) -> int:
        return 0

    async def list_modules(self) -> Sequence[Any]:
        return []

    async def overview(self, now: datetime) -> Overview:
        self._check()
        pending = sum(1 for e in self.store.all_of(Execution) if e.status.value == "PENDING")
        return Overview(pending, 0, 0, 0, None, None, 0, 0, 0, 0)

    async def wait_for(self, position: int, within: float = 2.0) -> bool:
        return True


def _event_view(event: BusEvent) -> BusEventView:
    return event_view(event, event.version)


class Health:
    def __init__(self) -> None:
        self.state = {"postgres": "ok", "redis": "ok"}

    async def check(self) -> Mapping[str, str]:
        return self.state


class Limiter:
    def __init__(self) -> None:
        self.wait = 0.0

    async def retry_after(self, key: str) -> float:
        return self.wait


class Feeds:
    """Live feeds that yield what they are given, then a keep-alive, then end."""

    def __init__(self) -> None:
        self.items: list[Mapping[str, Any]] = []

    async def follow(self, *_: Any, **__: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        for item in self.items:
            yield item
        yield None


@dataclass
class World:
    store: MemoryStore = field(default_factory=MemoryStore)
    health: Health = field(default_factory=Health)
    limiter: Limiter = field(default_factory=Limiter)
    feeds: Feeds = field(default_factory=Feeds)
    read: MemoryReadModels = field(init=False)

    def __post_init__(self) -> None:
        self.read = MemoryReadModels(self.store)

    def services(self) -> ApiServices:
        deps = Dependencies(
            self.store, SystemClock(), Catalog(), lambda: 0.5, JobDefaults(60_000, 2)
        )
        r = self.read
        return ApiServices(
            deps, r, r, r, r, r, r, r, self.health, self.feeds, self.feeds, self.limiter
        )

    @asynccontextmanager
    async def open(self) -> AsyncIterator[ApiServices]:
        yield self.services()
