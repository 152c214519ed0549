"""Rows of the store's notification log as its followers read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from infrastructure.eventstore.mapper import decode_event

EVENTS_TABLE = "almanac_events"
MIN_READ_INTERVAL = 0.01  # seconds; bounds a busy follower to 100 reads a second


@dataclass(frozen=True, slots=True)
class StoredRow:
    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes

    def decode(self) -> Any:
        return decode_event(self.topic, self.state, self.originator_id, self.version)


def stored_rows(records: Iterable[asyncpg.Record]) -> list[StoredRow]:
    """Rows from records of (notification_id, originator_id, originator_version, topic, state)."""
    return [StoredRow(r[0], r[1], r[2], r[3], bytes(r[4])) for r in records]


@dataclass(frozen=True, slots=True)
class LogSlice:
    """Matching rows after a position; `end` is the position passed (no later row is missed)."""

    rows: list[StoredRow]
    end: int
    full: bool
