"""Projection `skips`: occurrences of a job that did not run, and why."""

from __future__ import annotations

from collections.abc import Sequence

from domain.skipped_occurrences import SkippedOccurrences
from infrastructure.readmodels.projection import (
    Connection,
    LoggedEvent,
    Projection,
    write_rows,
)

_COLUMNS = (
    ("id", "uuid"),
    ("job_id", "uuid"),
    ("reason", "text"),
    ("first", "timestamptz"),
    ("last", "timestamptz"),
    ("count", "int4"),
    ("at", "timestamptz"),
)


class SkipsProjection(Projection):
    """One row per job.occurrences-skipped event (each is its own aggregate, never changed)."""

    name = "skips"
    topics = (SkippedOccurrences.Created.TOPIC,)
    tables = ("rm_skipped_occurrences",)

    async def apply(self, connection: Connection, events: Sequence[LoggedEvent]) -> None:
        rows = [
            (
                e.event.originator_id,
                e.event.job_id,
                str(e.event.reason),
                e.event.first,
                e.event.last,
                e.event.count,
                e.event.timestamp,
            )
            for e in events
        ]
        await write_rows(connection, self.table("rm_skipped_occurrences"), _COLUMNS, rows)
