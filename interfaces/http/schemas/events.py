"""Bus event bodies: the public envelope, statistics and the emit request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

EventName = Annotated[
    str, msgspec.Meta(description="dot-separated segments of letters, digits, '_' or '-'")
]


class EventCreateRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """An event to emit; `source` names the emitting module or client."""

    name: EventName
    source: str = "api"
    payload: dict[str, Any] = msgspec.field(default_factory=dict)


class EventResponse(msgspec.Struct, rename="camel"):
    id: UUID
    name: str
    source: str
    payload: dict[str, Any]
    created_at: datetime
    position: int


class EventPage(msgspec.Struct, rename="camel"):
    items: list[EventResponse]
    next_cursor: str | None


class RecentEvents(msgspec.Struct, rename="camel"):
    items: list[EventResponse]


class MinuteCountResponse(msgspec.Struct, rename="camel"):
    minute: datetime
    count: int


class TopEvent(msgspec.Struct, rename="camel"):
    name: str
    count: int


class TopSource(msgspec.Struct, rename="camel"):
    source: str
    count: int


class EventStatsResponse(msgspec.Struct, rename="camel"):
    total: int
    last24h: int
    per_minute: list[MinuteCountResponse]
    top_events: list[TopEvent]
    top_sources: list[TopSource]
