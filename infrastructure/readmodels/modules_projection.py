"""Projection `modules`: registered modules, their manifests and whether they are enabled."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.module import Module
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
    ("version", "text"),
    ("path", "text"),
    ("enabled", "bool"),
    ("jobs", "jsonb"),
    ("updated_at", "timestamptz"),
)
ModuleRow = list[Any]  # the values of _COLUMNS, in order


class ModulesProjection(Projection):
    """module.* events folded per module in memory, then written in one upsert."""

    name = "modules"
    topics = tuple(
        e.TOPIC for e in (Module.Created, Module.Updated, Module.Enabled, Module.Disabled)
    )
    tables = ("rm_modules",)

    async def apply(self, connection: Connection, events: Sequence[LoggedEvent]) -> None:
        table = self.table("rm_modules")
        found = await changed_rows(connection, table, _COLUMNS, events, Module.Created.TOPIC)
        rows = {record["id"]: list(record) for record in found}
        for logged in events:
            fold_module(rows, logged.event)
        if rows:
            values = [_values(row) for row in rows.values()]
            await write_rows(connection, table, _COLUMNS, values, upsert_on="id")


def _values(row: ModuleRow) -> ModuleRow:
    return [*row[:5], json_text(row[5]), row[6]]


def fold_module(rows: dict[UUID, ModuleRow], event: Any) -> None:
    """Apply one module event to the in-memory rows; the rules mirror the Module aggregate."""
    topic: str = type(event).TOPIC
    at: datetime = event.timestamp
    if topic in ("module.registered", "module.updated"):
        manifest = event.manifest
        previous = rows.get(event.originator_id)
        enabled = previous[4] if previous and topic == "module.updated" else True
        rows[event.originator_id] = [
            event.originator_id,
            manifest.name,
            manifest.version,
            manifest.path,
            enabled,
            list(manifest.jobs),
            at,
        ]
        return
    row = rows.get(event.originator_id)
    if row is None:
        log.warning("%s for unknown module %s ignored", topic, event.originator_id)
        return
    row[4], row[6] = topic == "module.enabled", at
