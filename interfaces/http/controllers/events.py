"""Bus events: emit, list, read, recent, statistics and retention clean-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.bus import emit_event
from application.commands import EmitEvent
from application.views import BusEventView, EventFilters
from domain.bus_event import validate_source
from domain.errors import InvalidValue
from domain.patterns import validate_event_name, validate_pattern
from interfaces.http.body import decode_struct, read_json
from interfaces.http.openapi import body_operation, errors
from interfaces.http.params import DEFAULT_LIMIT, Cursor, Limit, page, path_id, utc
from interfaces.http.problems import FieldError, ProblemError, invalid, rate_limited
from interfaces.http.render import created_view, event_view
from interfaces.http.schemas.common import DeletedResponse
from interfaces.http.schemas.events import (
    EventCreateRequest,
    EventPage,
    EventResponse,
    EventStatsResponse,
    MinuteCountResponse,
    RecentEvents,
    TopEvent,
    TopSource,
)
from interfaces.http.services import ApiServices

MAX_PAYLOAD = 256 * 1024
Services = NamedDependency[ApiServices]
Text = Annotated[str | None, QueryParameter(max_length=200)]
Since = Annotated[datetime | None, QueryParameter(name="since", description="ISO-8601")]
Until = Annotated[datetime | None, QueryParameter(name="until", description="ISO-8601")]
RecentLimit = Annotated[int, QueryParameter(name="limit", ge=1, le=500)]
Days = Annotated[int | None, QueryParameter(name="olderThanDays", ge=0, le=36_500)]


class EventController(Controller):
    path = "/events"
    tags = ["events"]

    @post(
        "/",
        status_code=201,
        operation_class=body_operation(EventCreateRequest),
        responses=errors(400, 413, 415, 422, 429),
    )
    async def emit(self, request: Request[Any, Any, Any], services: Services) -> EventResponse:
        """Emit an event; it reaches subscribers once stored. Rate-limited per source."""
        body = decode_struct(await read_json(request), EventCreateRequest)
        if len(msgspec.json.encode(body.payload)) > MAX_PAYLOAD:
            raise ProblemError(413, f"the payload must be at most {MAX_PAYLOAD} bytes as JSON")
        _check_names(body)
        wait = await services.event_rate_limit.retry_after(body.source)
        if wait > 0:
            raise rate_limited(wait)
        outcome = await emit_event(EmitEvent(body.name, body.payload, body.source), services.deps)
        written = partial(event_view, position=outcome.position)
        return event_body(await created_view(services, outcome, written))

    @get("/", responses=errors(400, 422))
    async def list_events(
        self,
        *,
        services: Services,
        name: Text = None,
        source: Text = None,
        pattern: Text = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> EventPage:
        """Events newest first; `pattern` uses `*` (one segment) and `**` (any)."""
        if pattern is not None:
            validate_pattern(pattern)
        filters = EventFilters(name, source, pattern, utc(since), utc(until))
        found = await services.events.list_events(filters, page(limit, cursor))
        return EventPage([event_body(view) for view in found.items], found.next_cursor)

    @get("/recent", responses=errors(400, 422))
    async def recent(self, services: Services, limit: RecentLimit = 20) -> RecentEvents:
        """The newest events first."""
        return RecentEvents([event_body(v) for v in await services.events.recent_events(limit)])

    @get("/stats/summary", responses=errors())
    async def stats(self, services: Services) -> EventStatsResponse:
        """Totals, the last 24 h, per minute over the last hour, top names and sources."""
        stats = await services.events.event_stats(datetime.now(UTC))
        return EventStatsResponse(
            total=stats.total,
            last24h=stats.last24h,
            per_minute=[MinuteCountResponse(m.minute, m.count) for m in stats.per_minute],
            top_events=[TopEvent(c.name, c.count) for c in stats.top_events],
            top_sources=[TopSource(c.name, c.count) for c in stats.top_sources],
        )

    @delete("/cleanup", status_code=200, responses=errors(400, 422))
    async def cleanup(self, services: Services, older_than_days: Days = None) -> DeletedResponse:
        """Delete events older than `olderThanDays` (default EVENT_RETENTION_DAYS)."""
        days = services.retention_days if older_than_days is None else older_than_days
        cutoff = datetime.now(UTC) - timedelta(days=days)
        return DeletedResponse(await services.retention.delete_events_before(cutoff))

    @get("/{event_id:str}", responses=errors(404))
    async def get_event(self, event_id: FromPath[str], services: Services) -> EventResponse:
        """One event."""
        view = await services.events.get_event(path_id(event_id, "event"))
        if view is None:
            raise ProblemError(404, f"no event with id {event_id!r}")
        return event_body(view)


def event_body(view: BusEventView) -> EventResponse:
    return msgspec.convert(view, EventResponse, from_attributes=True)


def _check_names(body: EventCreateRequest) -> None:
    """Name and source rules, both reported at once (before the rate limit counts it)."""
    problems = []
    for check, value in ((validate_event_name, body.name), (validate_source, body.source)):
        try:
            check(value)
        except InvalidValue as error:
            problems.append(FieldError(error.field, error.message))
    if problems:
        raise invalid(problems)
