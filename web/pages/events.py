"""Events: the list with filters and payloads, and their statistics, both live."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from application.views import BusEventView, EventFilters, EventStats
from domain.errors import InvalidValue
from domain.patterns import EventPattern, validate_pattern
from web.charts import Point, bar_chart
from web.pages.support import (
    At,
    Cursor,
    Dashboard,
    blank_to_none,
    caught_up,
    cursor_page,
    fragment,
    no_fragment,
    page,
)
from web.services import DashboardServices

Text = Annotated[str | None, QueryParameter(required=False, max_length=200)]


class EventPages(Controller):
    @get("/events", name="dashboard-events")
    async def events(
        self,
        *,
        dashboard: Dashboard,
        name: Text = None,
        source: Text = None,
        pattern: Text = None,
        cursor: Cursor = None,
    ) -> Template:
        """Events newest first with their payloads, filtered; statistics above; both live."""
        filters, problem = event_filters(name, source, pattern)
        found = await cursor_page(dashboard.events.list_events, filters, cursor)
        stats = await _stats(dashboard)
        typed = {"name": name or "", "source": source or "", "pattern": pattern or ""}
        context = {"filters": filters, "typed": typed, "problem": problem, "found": found}
        return page("events/list.html", "events", "Events", cursor=cursor, **context, **stats)

    @get("/ui/events/rows")
    async def rows(
        self,
        *,
        dashboard: Dashboard,
        name: Text = None,
        source: Text = None,
        pattern: Text = None,
    ) -> Template:
        """The first page's rows as they are now (after the live stream reconnects)."""
        await caught_up(dashboard)
        filters, _ = event_filters(name, source, pattern)
        found = await cursor_page(dashboard.events.list_events, filters, None)
        return fragment("partials/event_rows.html", events=found.items)

    @get("/ui/events/{event_id:uuid}/row")
    async def row(
        self,
        *,
        event_id: FromPath[UUID],
        dashboard: Dashboard,
        name: Text = None,
        source: Text = None,
        pattern: Text = None,
        at: At = None,
    ) -> Template | Response[None]:
        """One new event's row; nothing when it does not match the list's filters."""
        await caught_up(dashboard, at)
        event = await dashboard.events.get_event(event_id)
        filters, _ = event_filters(name, source, pattern)
        if event is None or not matches(event, filters):
            return no_fragment()
        return fragment("partials/event_row.html", event=event)

    @get("/ui/events/stats")
    async def stats(self, dashboard: Dashboard, at: At = None) -> Template:
        """The statistics panel as of now (read models caught up with the store)."""
        await caught_up(dashboard, at)
        return fragment("partials/event_stats.html", **await _stats(dashboard))


async def _stats(dashboard: DashboardServices) -> dict[str, Any]:
    stats = await dashboard.events.event_stats(datetime.now(UTC))
    return {"stats": stats, "rate": rate_chart(stats)}


def rate_chart(stats: EventStats) -> Any:
    """Events per minute over the last hour."""
    points = [
        Point(f"{minute.minute:%H:%M} UTC: {minute.count} events", minute.count, "event")
        for minute in stats.per_minute
    ]
    return bar_chart(points, width=600, height=100)


def event_filters(
    name: str | None, source: str | None, pattern: str | None
) -> tuple[EventFilters, InvalidValue | None]:
    """Filters from query values; an invalid pattern is dropped and reported."""
    pattern = blank_to_none(pattern)
    problem = None
    if pattern is not None:
        try:
            validate_pattern(pattern)
        except InvalidValue as error:
            pattern, problem = None, error
    return EventFilters(blank_to_none(name), blank_to_none(source), pattern), problem


def matches(event: BusEventView, filters: EventFilters) -> bool:
    if filters.name is not None and event.name != filters.name:
        return False
    if filters.source is not None and event.source != filters.source:
        return False
    return filters.pattern is None or EventPattern(filters.pattern).matches(event.name)
