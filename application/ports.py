"""Ports: what the application needs from the outside world, stated as Protocols."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.views import HistoryEntry

A = TypeVar("A", bound=Aggregate)


class Clock(Protocol):
    """Now, as a UTC-aware datetime."""

    def now(self) -> datetime: ...


class Sampler(Protocol):
    """A uniform sample in [0, 1), for retry jitter."""

    def __call__(self) -> float: ...


class EventStore(Protocol):
    """The write side: load aggregates, save their new events atomically, read their history.

    `save` returns the store position (notification id) of the last event saved, or 0 when
    there was nothing to save. It raises ConcurrencyConflict when another writer got there
    first, including when an aggregate with the same id already exists.
    """

    async def load(self, aggregate_id: UUID, kind: type[A]) -> A: ...

    async def load_recent(self, aggregate_id: UUID, kind: type[A]) -> A:
        """The aggregate as this process last saved it, if it kept it (no read); else `load`.

        It may miss what other processes appended since, so use it only for a decision that
        newer state can merely contradict: the save then conflicts and a retry loads afresh.
        Never where newer state could turn a refusal into an acceptance.
        """
        ...

    async def save(self, *aggregates: Aggregate) -> int: ...

    async def save_each(self, aggregates: Sequence[Aggregate]) -> list[int | None]:
        """Save each aggregate on its own (atomically each, batched together); None where
        another writer was first. Other failures are raised."""
        ...

    async def history(self, aggregate_id: UUID) -> list[HistoryEntry]: ...

    async def head(self) -> int: ...


class ModuleCatalog(Protocol):
    """The modules found on MODULES_PATH: which exist and which handler files they hold."""

    def problems_with_handler(self, module_id: str, handler: str) -> list[tuple[str, str]]:
        """(field, message) pairs for an unknown module or a handler file that is not there."""
        ...

    def event_schema_problems(self, name: str, payload: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(field, message) pairs where the payload breaks a module's schema for this name."""
        ...


class ReadModelSync(Protocol):
    """Read-your-writes: wait, bounded, until the read models have caught up to a position."""

    async def wait_for(self, position: int, within: float = 2.0) -> bool: ...


class CommandSender(Protocol):
    """Sends RunExecution(execution, attempt) to the workers; delivery is at-least-once."""

    async def send_runs(self, runs: Sequence[tuple[UUID, int]]) -> None:
        """Send many at once (one round trip per batch)."""
        ...


class WorkerLiveness(Protocol):
    """Which workers have heartbeated recently."""

    async def live_workers(self, within_seconds: float) -> set[str]: ...
