"""Aggregates a process saved last, for the next command on them to reuse without a read.

A worker claims an attempt and, moments later, records its outcome; reading the execution back
in between mostly returns what the worker itself just wrote. Each kept aggregate is handed out
once (a copy) and kept again when its next save succeeds.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.domain import Aggregate

CAPACITY = 1_000  # enough for every attempt a worker runs at once, many times over


class KeptAggregates:
    """A bounded map from id to the aggregate as last saved, for the configured kinds only."""

    def __init__(self, kinds: tuple[type[Aggregate], ...], capacity: int = CAPACITY) -> None:
        self._kinds = kinds
        self._capacity = capacity
        self._kept: OrderedDict[UUID, Aggregate] = OrderedDict()

    def keep(self, aggregates: Iterable[Aggregate]) -> None:
        """Remember aggregates whose save just succeeded."""
        for aggregate in aggregates:
            if isinstance(aggregate, self._kinds):
                self._kept[aggregate.id] = aggregate
                self._kept.move_to_end(aggregate.id)
        while len(self._kept) > self._capacity:
            self._kept.popitem(last=False)

    def take[A: Aggregate](self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """A copy of the kept aggregate, forgotten here until it is saved again."""
        kept = self._kept.pop(aggregate_id, None)
        return copy.deepcopy(kept) if isinstance(kept, kind) else None
