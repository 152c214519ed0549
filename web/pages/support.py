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

# Protocols cannot be validated at runtime; the composition root vouches for the services.
Dashboard = NamedDependency[SkipValidation[DashboardServices]]
Cursor = Annotated[str | None, QueryParameter(name="cursor", required=False)]


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


async def caught_up(services: DashboardServices) -> None:
    """Wait (bounded) until the read models show every event stored so far."""
    # Fragments are fetched after the stream announced something, so "now" covers it, and a
    # fragment requested later never shows an older state than one requested earlier.
    await services.sync.wait_for(await services.deps.store.head(), CATCH_UP_SECONDS)


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


def as_bool(text: str | None) -> bool | None:
    """`true`/`false` from a query value; anything else means "either"."""
    return {"true": True, "false": False}.get((text or "").lower())


def blank_to_none(text: str | None) -> str | None:
    stripped = (text or "").strip()
    return stripped or None
