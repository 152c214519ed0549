"""The public event envelope: one JSON shape on the stream, on SSE and in the events API.

{"id", "name", "source", "payload", "createdAt", "position"}. Bus events keep their own name,
source and payload; Almanac's own events are named by their stable topic (`job.created`,
`execution.completed`, ...) with source "almanac" and their fields, camelCased, as payload.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from application.wire import camelize, iso
from infrastructure.eventstore.mapper import event_fields

BUS_EVENT_TOPIC = "event.emitted"
SYSTEM_SOURCE = "almanac"
_ID_FIELD = {"job": "jobId", "execution": "executionId", "module": "moduleId"}


def envelope(event: Any, position: int) -> dict[str, Any]:
    """The envelope of a decoded store event at its store position."""
    topic: str = type(event).TOPIC
    if topic == BUS_EVENT_TOPIC:
        return {
            "id": str(event.originator_id),
            "name": event.name,
            "source": event.source,
            "payload": event.payload,
            "createdAt": iso(event.timestamp),
            "position": position,
        }
    payload = camelize(event_fields(event))
    family = topic.split(".", 1)[0]
    id_field = "skipId" if topic == "job.occurrences-skipped" else _ID_FIELD.get(family, "id")
    payload = {id_field: str(event.originator_id), **payload}
    return {
        "id": str(envelope_id(event.originator_id, event.originator_version)),
        "name": topic,
        "source": SYSTEM_SOURCE,
        "payload": payload,
        "createdAt": iso(event.timestamp),
        "position": position,
    }


def envelope_id(originator_id: UUID, version: int) -> UUID:
    """A stable id for each stored event of Almanac's own aggregates."""
    return uuid5(originator_id, str(version))
