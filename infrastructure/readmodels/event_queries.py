"""Bus event queries over rm_events; statistics from the count tables, never from rm_events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from application.views import (
    BusEventView,
    EventFilters,
    EventStats,
    MinuteCount,
    NameCount,
    Page,
    PageRequest,
)
from domain.patterns import EventPattern
from infrastructure.readmodels.cursor import decode_cursor, filter_conditions, keyset_page
from infrastructure.readmodels.events_projection import minute_of
from infrastructure.readmodels.projection import Connection

_SELECT = "SELECT id, name, source, payload, created_at, position FROM rm_events"
_TOP = 10


class PostgresEventQueries:
    """Implements application.queries.EventQueries."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get_event(self, event_id: UUID) -> BusEventView | None:
        record = await self._pool.fetchrow(f"{_SELECT} WHERE id = $1", event_id)
        return None if record is None else BusEventView(*record)

    async def list_events(self, filters: EventFilters, page: PageRequest) -> Page[BusEventView]:
        """Newest first, keyset on position; a pattern becomes a regular expression in SQL."""
        conditions, args = _conditions(filters)
        if page.cursor:
            (position,) = decode_cursor(page.cursor, tuple[int])
            args.append(position)
            conditions.append(f"position < ${len(args)}")
        args.append(page.limit + 1)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"{_SELECT}{where} ORDER BY position DESC LIMIT ${len(args)}"
        records = await self._pool.fetch(sql, *args)
        return keyset_page(records, page.limit, lambda r: BusEventView(*r), lambda e: [e.position])

    async def recent_events(self, limit: int) -> Sequence[BusEventView]:
        records = await self._pool.fetch(f"{_SELECT} ORDER BY position DESC LIMIT $1", limit)
        return [BusEventView(*record) for record in records]

    async def event_stats(self, now: datetime) -> EventStats:
        """Totals, the last 24 h, the last 60 minutes (zero-filled) and the top names/sources."""
        current = minute_of(now)
        first = current - timedelta(minutes=59)
        async with self._pool.acquire() as connection:
            total = await connection.fetchval(
                "SELECT coalesce(sum(count), 0) FROM rm_event_counts WHERE kind = 'name'"
            )
            day = await connection.fetchval(
                "SELECT coalesce(sum(count), 0) FROM rm_event_minutes WHERE minute > $1",
                current - timedelta(hours=24),
            )
            minutes = await connection.fetch(
                "SELECT minute, count FROM rm_event_minutes WHERE minute BETWEEN $1 AND $2",
                first,
                current,
            )
            top_events = await _top(connection, "name")
            top_sources = await _top(connection, "source")
        by_minute = {record["minute"]: record["count"] for record in minutes}
        per_minute = [
            MinuteCount(minute, by_minute.get(minute, 0))
            for minute in (first + timedelta(minutes=index) for index in range(60))
        ]
        return EventStats(int(total), int(day), per_minute, top_events, top_sources)


async def _top(connection: Connection, kind: str) -> list[NameCount]:
    records = await connection.fetch(
        "SELECT key, count FROM rm_event_counts WHERE kind = $1 AND count > 0 "
        "ORDER BY count DESC, key LIMIT $2",
        kind,
        _TOP,
    )
    return [NameCount(record["key"], record["count"]) for record in records]


def _conditions(filters: EventFilters) -> tuple[list[str], list[Any]]:
    pattern = None if filters.pattern is None else pattern_regex(filters.pattern)
    return filter_conditions(
        {
            "name = $": filters.name,
            "source = $": filters.source,
            "('.' || name) ~ $": pattern,
            "created_at >= $": filters.since,
            "created_at <= $": filters.until,
        }
    )


def pattern_regex(pattern: str) -> str:
    """A POSIX regex for '.' + name: `*` is one segment, `**` any number (InvalidValue if bad)."""
    EventPattern(pattern)  # validates, naming the field `pattern`
    units = []
    for segment in pattern.split("."):
        if segment == "**":
            units.append(r"(\.[^.]+)*")
        elif segment == "*":
            units.append(r"\.[^.]+")
        else:
            units.append(r"\." + segment)
    return "^" + "".join(units) + "$"
