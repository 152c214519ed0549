"""What every page shares: the services, template responses and lenient query parsing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, cast
from uuid import UUID

from litestar import Response
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter, SkipValidation
from litestar.response import Template

from application.views import Page, PageRequest
from domain.errors import DomainError
from web.services import DashboardServices

# Live fragments wait this long for the read models to show the event that triggered them.
CATCH_UP_SECONDS = 3.0
PAGE_SIZE = 25
MAX_POSITION_DIGITS = 19  # positions are bigints; longer text names none (and int() refuses it)

# Protocols cannot be validated at runtime; the composition root vouches for the services.
Dashboard = NamedDependency[SkipValidation[DashboardServices]]
Cursor = Annotated[str | None, QueryParameter(name="cursor", required=False)]
At = Annotated[str | None, QueryParameter(name="at", required=False)]


def dashboard_services(state: State) -> DashboardServices:
    """The services the composition root put on the app (an ApiServices fits)."""
    return cast(DashboardServices, state.services)


def page(template: str, section: str, title: str, **context: Any) -> Template:
    """A full page; `section` marks the current entry of the navigation."""
    return Template(template, context={"section": section, "title": title, **context})


def fragment(template: str, **context: Any) -> Template:
    """A piece of a page, swapped in by the live script."""
    return Template(template, context=context)


def no_fragment() -> Response[None]:
    """Nothing to show (the item left the page's filters): the script removes it."""
    return Response(None, status_code=204)


def not_found(what: str, identifier: object) -> Template:
    context = {"section": "", "title": "Not found", "what": what, "identifier": identifier}
    return Template("not_found.html", context=context, status_code=404)


async def caught_up(services: DashboardServices, at: str | None = None) -> None:
    """Wait (bounded) until the read models show the event at position `at`, or, without
    one, every event stored so far."""
    # The live script passes the position of the stream event that triggered the fetch, which
    # costs no store query. Positions on the stream only grow and the read models only move
    # forward, so a fragment requested later waits for at least as much as one requested
    # earlier and never shows an older state. Fetches with no event behind them (a reconnect,
    # after a command) wait for the head; a live fetch after one may wait for less, until the
    # events in between arrive on the stream and fetch again.
    position = as_position(at)
    if position is None:
        position = await services.deps.store.head()
    await services.sync.wait_for(position, CATCH_UP_SECONDS)


async def cursor_page[F, T](
    list_page: Callable[[F, PageRequest], Awaitable[Page[T]]], filters: F, cursor: str | None
) -> Page[T]:
    """The page at `cursor`; a cursor from another list or edited by hand starts over."""
    try:
        return await list_page(filters, PageRequest(PAGE_SIZE, cursor))
    except DomainError:
        return await list_page(filters, PageRequest(PAGE_SIZE))


def as_uuid(text: str | None) -> UUID | None:
    """A UUID from a query value, or None when it is empty or not a UUID."""
    if not text:
        return None
    try:
        return UUID(text)
    except ValueError:
        return None


def as_position(text: str | None) -> int | None:
    """A store position from a query value, or None when it is not a whole number >= 0."""
    if not text or len(text) > MAX_POSITION_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def as_bool(text: str | None) -> bool | None:
    """`true`/`false` from a query value; anything else means "either"."""
    return {"true": True, "false": False}.get((text or "").lower())


def blank_to_none(text: str | None) -> str | None:
    stripped = (text or "").strip()
    return stripped or None
