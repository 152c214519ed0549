"""What a projection is: a name, the topics it consumes, its tables, and a batch `apply`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

# A connection of our own or one borrowed from a pool: projections work on either.
Connection = asyncpg.Connection | PoolConnectionProxy
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A decoded domain event at its store position (notification id)."""

    position: int
    event: Any

    @property
    def topic(self) -> str:
        topic: str = type(self.event).TOPIC
        return topic


class Projection:
    """Keeps some read-model tables from a batch of events, inside the caller's transaction.

    `suffix` redirects every table to a twin (e.g. `rm_jobs__rebuild`), which is how a rebuild
    fills fresh tables while the live ones keep serving reads.
    """

    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]]
    tables: ClassVar[tuple[str, ...]]

    def __init__(self, suffix: str = "") -> None:
        self.suffix = suffix

    def table(self, name: str) -> str:
        return name + self.suffix

    async def apply(self, connection: Connection, events: Sequence[LoggedEvent]) -> None:
        raise NotImplementedError


async def changed_rows(
    connection: Connection,
    table: str,
    columns: Sequence[tuple[str, str]],
    events: Sequence[LoggedEvent],
    created: str,
) -> list[asyncpg.Record]:
    """Rows (by id) of the aggregates this batch changes but does not create (one query)."""
    new = {e.event.originator_id for e in events if e.topic == created}
    wanted = list({e.event.originator_id for e in events} - new)
    if not wanted:
        return []
    names = ", ".join(name for name, _ in columns)
    sql = f"SELECT {names} FROM {table} WHERE id = ANY($1::uuid[])"
    return list(await connection.fetch(sql, wanted))


async def write_rows(
    connection: Connection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    upsert_on: str | None = None,
) -> None:
    """Insert `rows` in one round trip; with `upsert_on`, a row whose key exists is replaced."""
    sql = unnest_insert(table, columns)
    if upsert_on:
        others = (name for name, _ in columns if name != upsert_on)
        assignments = ", ".join(f"{name} = excluded.{name}" for name in others)
        sql += f" ON CONFLICT ({upsert_on}) DO UPDATE SET {assignments}"
    await connection.execute(sql, *columns_of(rows, len(columns)))


def json_text(value: Any) -> str | None:
    """A JSON document as text for a `::jsonb` cast; None stays SQL NULL."""
    return None if value is None else _encode(value).decode()


def unnest_insert(table: str, columns: Sequence[tuple[str, str]]) -> str:
    """`INSERT ... SELECT FROM unnest($1::t1[], ...)`, one array per column.

    jsonb columns travel as text arrays and are cast in SQL, so one round trip writes a batch.
    """
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(_array(index, kind) for index, (_, kind) in enumerate(columns, 1))
    return f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"


def _array(index: int, kind: str) -> str:
    if kind == "jsonb":
        return f"${index}::text[]::jsonb[]"
    return f"${index}::{kind}[]"


def columns_of(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows turned into one list per column, as unnest wants them."""
    return [[row[index] for row in rows] for index in range(width)]
