"""Stores events as JSON with msgspec and decodes them back into their exact dataclass types.

The library's default JSON transcoder turns enums into strings and tuples into lists on the
way back; decoding into the event class keeps replayed state identical to live state.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

# Importing the aggregates registers their explicit topics, so any process can decode any
# stored event (a relay or projector may never touch the aggregates otherwise).
import domain.bus_event
import domain.execution
import domain.job
import domain.module
import domain.skipped_occurrences  # noqa: F401
from application.views import HistoryEntry

_encoder = msgspec.json.Encoder()


class UnusedTranscoder(Transcoder):
    """The mapper encodes by itself; the library still wants a transcoder object."""

    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError


class MsgspecMapper(Mapper[UUID]):
    """Event state is the event's fields minus id and version, which live in their own columns."""

    def __init__(self, transcoder: Transcoder | None = None, *_: Any, **__: Any) -> None:
        super().__init__(transcoder or UnusedTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=_encoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode_event(
            stored_event.topic,
            stored_event.state,
            stored_event.originator_id,
            stored_event.originator_version,
        )


def decode_event(topic: str, state: bytes, originator_id: Any, version: int) -> Any:
    """Decode one stored event; upcasts run on the raw state before types are applied."""
    cls = resolve_topic(topic)
    fields: dict[str, Any] = msgspec.json.decode(state)
    from_version = fields.pop("class_version", 1)
    while from_version < getattr(cls, "class_version", 1):
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(fields)
        from_version += 1
    fields["originator_id"] = (
        originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    )
    fields["originator_version"] = version
    return msgspec.convert(fields, cls, strict=False)


def history_entry(event: Any) -> HistoryEntry:
    """A stored event as one line of its aggregate's audit trail (who did it, and what)."""
    data = event_fields(event)
    actor = data.pop("actor", None)
    return HistoryEntry(
        type=type(event).TOPIC,
        at=event.timestamp,
        actor=actor,
        data=data,
        version=event.originator_version,
    )


def event_fields(event: Any) -> dict[str, Any]:
    """An event's own fields as JSON-ready builtins (for envelopes and history)."""
    state = dict(vars(event))
    for name in ("originator_id", "originator_version", "timestamp", "originator_topic"):
        state.pop(name, None)
    result: dict[str, Any] = msgspec.to_builtins(state)
    return result
