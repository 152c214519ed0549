"""The dispatcher: turns requested executions and due retries into RunExecution commands.

It follows the event log. A new execution is sent at once, a retry when its `retry_at`
comes, a handed-back attempt at once, and an execution queued behind another (overlap
policy `queue`) when that one finishes. Sending is at-least-once: a worker claims the
attempt before running it, so a duplicate command is dropped there.
"""

from __future__ import annotations

import heapq
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from application.ports import Clock, CommandSender
from domain.execution import TERMINAL_EVENTS, Execution

log = logging.getLogger(__name__)
SEND_BATCH = 500


class RecentSet:
    """Remembers the most recent ids only: enough to resolve races, bounded in memory."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._items: OrderedDict[UUID, None] = OrderedDict()
        self._capacity = capacity

    def add(self, item: UUID) -> None:
        self._items[item] = None
        self._items.move_to_end(item)
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def __contains__(self, item: object) -> bool:
        return item in self._items


@dataclass(order=True, frozen=True, slots=True)
class DueRun:
    due: datetime
    execution_id: UUID = field(compare=False)
    attempt: int = field(compare=False)


@dataclass
class Dispatcher:
    """Decides when each attempt is sent; holds timers and queued executions in memory."""

    sender: CommandSender
    clock: Clock
    timers: list[DueRun] = field(default_factory=list)
    waiting: dict[UUID, list[DueRun]] = field(default_factory=dict)
    finished: RecentSet = field(default_factory=RecentSet)
    cancelled: RecentSet = field(default_factory=RecentSet)

    def observe(self, event: Any) -> None:
        """Update timers from one store event (call in log order)."""
        execution_id: UUID = event.originator_id
        if isinstance(event, Execution.Created):
            self._requested(event)
        elif isinstance(event, Execution.AttemptFailed):
            self.schedule(DueRun(event.retry_at, execution_id, event.attempt + 1))
        elif isinstance(event, Execution.AttemptReleased):
            self.schedule(DueRun(event.timestamp, execution_id, event.attempt + 1))
        if isinstance(event, TERMINAL_EVENTS):
            self._finished(execution_id, cancelled=isinstance(event, Execution.Cancelled))

    def schedule(self, run: DueRun, wait_for: UUID | None = None) -> None:
        if wait_for is not None and wait_for not in self.finished:
            self.waiting.setdefault(wait_for, []).append(run)
            return
        heapq.heappush(self.timers, run)

    def due_runs(self) -> list[DueRun]:
        """Pop every run whose time has come (cancelled ones are dropped)."""
        now = self.clock.now()
        due = []
        while self.timers and self.timers[0].due <= now:
            run = heapq.heappop(self.timers)
            if run.execution_id not in self.cancelled:
                due.append(run)
        return due

    def seconds_until_next(self, ceiling: float) -> float:
        if not self.timers:
            return ceiling
        delta = (self.timers[0].due - self.clock.now()).total_seconds()
        return max(0.0, min(ceiling, delta))

    async def send_due(self) -> int:
        """Send in batches: one command at a time cannot keep up with a busy system."""
        runs = self.due_runs()
        for start in range(0, len(runs), SEND_BATCH):
            chunk = runs[start : start + SEND_BATCH]
            await self.sender.send_runs([(run.execution_id, run.attempt) for run in chunk])
        return len(runs)

    def _requested(self, event: Any) -> None:
        run = DueRun(event.timestamp, event.originator_id, 1)
        self.schedule(run, wait_for=event.wait_for)

    def _finished(self, execution_id: UUID, *, cancelled: bool) -> None:
        self.finished.add(execution_id)
        if cancelled:
            self.cancelled.add(execution_id)
        for run in self.waiting.pop(execution_id, []):
            heapq.heappush(self.timers, DueRun(self.clock.now(), run.execution_id, run.attempt))
