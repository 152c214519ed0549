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
    columns_of,
    json_text,
    unnest_upsert,
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
_NAMES = ", ".join(name for name, _ in _COLUMNS)
ModuleRow = list[Any]  # the values of _COLUMNS, in order


class ModulesProjection(Projection):
    """module.* events folded per module in memory, then written in one upsert."""

    name = "modules"
    topics = tuple(
        e.TOPIC for e in (Module.Created, Module.Updated, Module.Enabled, Module.Disabled)
    )
    tables = ("rm_modules",)

    async def apply(self, connection: Connection, events: Sequence[LoggedEvent]) -> None:
        rows = await self._existing(connection, events)
        for logged in events:
            fold_module(rows, logged.event)
        if rows:
            update = [name for name, _ in _COLUMNS[1:]]
            await connection.execute(
                unnest_upsert(self.table("rm_modules"), _COLUMNS, "id", update),
                *columns_of([_values(row) for row in rows.values()], len(_COLUMNS)),
            )

    async def _existing(
        self, connection: Connection, events: Sequence[LoggedEvent]
    ) -> dict[UUID, ModuleRow]:
        wanted = list({e.event.originator_id for e in events if e.topic != "module.registered"})
        if not wanted:
            return {}
        found = await connection.fetch(
            f"SELECT {_NAMES} FROM {self.table('rm_modules')} WHERE id = ANY($1::uuid[])", wanted
        )
        return {record["id"]: list(record) for record in found}


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
