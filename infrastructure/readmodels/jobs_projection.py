"""Projection `jobs`: the current definition and state of every job, deleted ones flagged."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.job import Job
from infrastructure.readmodels.projection import (
    Connection,
    LoggedEvent,
    Projection,
    columns_of,
    json_text,
    unnest_upsert,
)

log = logging.getLogger(__name__)
_COLUMNS = (
    ("id", "uuid"),
    ("name", "text"),
    ("module_id", "text"),
    ("enabled", "bool"),
    ("deleted", "bool"),
    ("definition", "jsonb"),
    ("version", "int4"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)
_NAMES = ", ".join(name for name, _ in _COLUMNS)


@dataclass(slots=True)
class JobRow:
    id: UUID
    name: str
    module_id: str
    enabled: bool
    deleted: bool
    definition: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


class JobsProjection(Projection):
    """job.* events folded per job in memory, then written in one upsert per batch."""

    name = "jobs"
    topics = tuple(
        e.TOPIC for e in (Job.Created, Job.Updated, Job.Enabled, Job.Disabled, Job.Deleted)
    )
    tables = ("rm_jobs",)

    async def apply(self, connection: Connection, events: Sequence[LoggedEvent]) -> None:
        rows = await self._existing(connection, events)
        for logged in events:
            fold_job(rows, logged.event)
        if not rows:
            return
        values = [_values(row) for row in rows.values()]
        sql = unnest_upsert(self.table("rm_jobs"), _COLUMNS, "id", [c for c, _ in _COLUMNS[1:]])
        await connection.execute(sql, *columns_of(values, len(_COLUMNS)))

    async def _existing(
        self, connection: Connection, events: Sequence[LoggedEvent]
    ) -> dict[UUID, JobRow]:
        """Rows of the jobs this batch changes but does not create (one query)."""
        created = {e.event.originator_id for e in events if e.topic == "job.created"}
        wanted = list({e.event.originator_id for e in events} - created)
        if not wanted:
            return {}
        found = await connection.fetch(
            f"SELECT {_NAMES} FROM {self.table('rm_jobs')} WHERE id = ANY($1::uuid[])", wanted
        )
        return {record["id"]: JobRow(*record) for record in found}


def _values(row: JobRow) -> tuple[Any, ...]:
    return (
        row.id,
        row.name,
        row.module_id,
        row.enabled,
        row.deleted,
        json_text(row.definition),
        row.version,
        row.created_at,
        row.updated_at,
    )


def fold_job(rows: dict[UUID, JobRow], event: Any) -> None:
    """Apply one job event to the in-memory rows; the rules mirror the Job aggregate."""
    topic = type(event).TOPIC
    if topic == "job.created":
        definition = msgspec.to_builtins(event.definition)
        rows[event.originator_id] = JobRow(
            event.originator_id,
            definition["name"],
            definition["module_id"],
            event.enabled,
            False,
            definition,
            event.originator_version,
            event.timestamp,
            event.timestamp,
        )
        return
    row = rows.get(event.originator_id)
    if row is None:
        log.warning("%s for unknown job %s ignored", topic, event.originator_id)
        return
    if topic == "job.updated":
        row.definition = msgspec.to_builtins(event.definition)
        row.name, row.module_id = row.definition["name"], row.definition["module_id"]
    elif topic in ("job.enabled", "job.disabled"):
        row.enabled = topic == "job.enabled"
    elif topic == "job.deleted":
        row.deleted = True
    row.version, row.updated_at = event.originator_version, event.timestamp
