"""Command handler for emitting an event on the bus: checked, stored, then relayed."""

from __future__ import annotations

from application.commands import EmitEvent
from application.dependencies import Dependencies
from application.results import Outcome
from domain.bus_event import BusEvent
from domain.errors import InvalidValue, InvalidValues
from domain.patterns import is_reserved_name

RESERVED = "names under job., execution., module. and almanac. are emitted by Almanac only"


async def emit_event(command: EmitEvent, deps: Dependencies) -> Outcome[BusEvent]:
    """Stored first: an event reaches subscribers only through the relay, after it is durable."""
    if is_reserved_name(command.name):
        raise InvalidValues([InvalidValue("name", RESERVED)])
    problems = deps.modules.event_schema_problems(command.name, command.payload)
    if problems:
        raise InvalidValues([InvalidValue(field, message) for field, message in problems])
    event = BusEvent.emit(
        command.name, dict(command.payload), source=command.source, at=deps.clock.now()
    )
    return Outcome(event, await deps.store.save(event))
