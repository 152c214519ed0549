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
    changed_rows,
    json_text,
    write_rows,
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
        table = self.table("rm_jobs")
        found = await changed_rows(connection, table, _COLUMNS, events, Job.Created.TOPIC)
        rows = {record["id"]: JobRow(*record) for record in found}
        for logged in events:
            fold_job(rows, logged.event)
        if rows:
            values = [_values(row) for row in rows.values()]
            await write_rows(connection, table, _COLUMNS, values, upsert_on="id")


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
