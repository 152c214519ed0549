"""The BusEvent aggregate: one event on the bus, stored before anyone can see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValue
from domain.patterns import validate_event_name

MAX_SOURCE = 200


class BusEvent(Aggregate):
    """An event `{id, name, source, payload, createdAt}`; it never changes once emitted."""

    TOPIC = "almanac.bus-event"
    name: str
    source: str
    payload: dict[str, Any]

    def __init__(self) -> None:
        """State is set by the Created (emitted) event's apply()."""

    class Created(Aggregate.Created):
        TOPIC = "event.emitted"
        name: str
        source: str
        payload: dict[str, Any]

        def apply(self, event: BusEvent) -> None:
            event.name, event.source, event.payload = self.name, self.source, self.payload

    @classmethod
    def emit(
        cls,
        name: str,
        payload: dict[str, Any],
        *,
        source: str,
        at: datetime,
        event_id: UUID | None = None,
    ) -> BusEvent:
        validate_event_name(name)
        validate_source(source)
        return cls._create(
            cls.Created,
            id=event_id or uuid4(),
            name=name,
            source=source,
            payload=payload,
            timestamp=at,
        )


def validate_source(source: str, field: str = "source") -> str:
    """A source names a module or client: 1-200 printable characters."""
    if not source or len(source) > MAX_SOURCE or not source.isprintable():
        raise InvalidValue(field, f"must be 1 to {MAX_SOURCE} printable characters")
    return source
