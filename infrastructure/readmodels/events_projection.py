"""Projection `events`: bus events (topic event.emitted) and counts per name, source, minute."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from domain.bus_event import BusEvent
from infrastructure.readmodels.projection import (
    Connection,
    LoggedEvent,
    Projection,
    json_text,
    write_rows,
)

_COLUMNS = (
    ("position", "int8"),
    ("id", "uuid"),
    ("name", "text"),
    ("source", "text"),
    ("payload", "jsonb"),
    ("created_at", "timestamptz"),
)


class EventsProjection(Projection):
    """Appends bus events and adds them to the statistics, so summaries never scan events."""

    name = "events"
    topics = (BusEvent.Created.TOPIC,)
    tables = ("rm_events", "rm_event_counts", "rm_event_minutes")

    async def apply(self, connection: Connection, events: Sequence[LoggedEvent]) -> None:
        rows = [
            (
                e.position,
                e.event.originator_id,
                e.event.name,
                e.event.source,
                json_text(e.event.payload),
                e.event.timestamp,
            )
            for e in events
        ]
        await write_rows(connection, self.table("rm_events"), _COLUMNS, rows)
        await add_counts(connection, self.suffix, count_events(events), sign=1)


class EventCounts:
    """How many events per (kind, key) and per minute: what one batch adds or a purge removes."""

    def __init__(self) -> None:
        self.keys: Counter[tuple[str, str]] = Counter()
        self.minutes: Counter[datetime] = Counter()

    def add(self, name: str, source: str, created_at: datetime) -> None:
        self.keys["name", name] += 1
        self.keys["source", source] += 1
        self.minutes[minute_of(created_at)] += 1


def count_events(events: Sequence[LoggedEvent]) -> EventCounts:
    counts = EventCounts()
    for logged in events:
        counts.add(logged.event.name, logged.event.source, logged.event.timestamp)
    return counts


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


async def add_counts(connection: Connection, suffix: str, counts: EventCounts, sign: int) -> None:
    """Add (sign 1) or remove (sign -1) counts; rows that reach zero are deleted."""
    if counts.keys:
        kinds, keys = zip(*counts.keys, strict=True)
        values = [sign * count for count in counts.keys.values()]
        await connection.execute(
            f"INSERT INTO rm_event_counts{suffix} AS c (kind, key, count) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::int8[]) "
            "ON CONFLICT (kind, key) DO UPDATE SET count = c.count + excluded.count",
            list(kinds),
            list(keys),
            values,
        )
    if counts.minutes:
        await connection.execute(
            f"INSERT INTO rm_event_minutes{suffix} AS m (minute, count) "
            "SELECT * FROM unnest($1::timestamptz[], $2::int8[]) "
            "ON CONFLICT (minute) DO UPDATE SET count = m.count + excluded.count",
            list(counts.minutes),
            [sign * count for count in counts.minutes.values()],
        )
    if sign < 0:
        await connection.execute(f"DELETE FROM rm_event_counts{suffix} WHERE count <= 0")
        await connection.execute(f"DELETE FROM rm_event_minutes{suffix} WHERE count <= 0")
