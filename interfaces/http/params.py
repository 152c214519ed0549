"""Parameters: path ids (a malformed id is an unknown id: 404), query types, page size, ETag."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Request
from litestar.params import HeaderParameter, QueryParameter

from application.views import PageRequest
from interfaces.http.problems import FieldError, ProblemError, invalid

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_CURSOR = 512
MAX_SEQ = 2**63 - 1  # a bigint: a larger seq cannot be stored, so no cursor names one

Limit = Annotated[
    int, QueryParameter(name="limit", ge=1, le=MAX_LIMIT, description="page size, 1 to 500")
]
Cursor = Annotated[
    str | None,
    QueryParameter(name="cursor", max_length=MAX_CURSOR, description="nextCursor of the last page"),
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", description="the job's ETag; a stale one gets 412"),
]


def path_id(raw: str, kind: str) -> UUID:
    """A UUID from the path; anything else names no resource."""
    try:
        return UUID(raw)
    except ValueError:
        raise ProblemError(404, f"no {kind} with id {raw!r}") from None


def page(limit: int, cursor: str | None) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor or None)


def seq_cursor(cursor: str | None) -> int:
    """The seq a sequence-ordered list's cursor carries (0 for none); anything else is a 422."""
    if not cursor:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_SEQ:
        raise invalid([FieldError("cursor", "is not a cursor returned by this list")])
    return int(cursor)


def utc(moment: datetime | None) -> datetime | None:
    """Query instants without an offset are read as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names; `*` (or none) means any. Unreadable tags never match."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.split(",")[0].strip().removeprefix("W/").strip('"')
    try:
        return int(tag)
    except ValueError:
        return -1


async def reject_nul_parameters(request: Request[Any, Any, Any]) -> None:
    """Postgres text cannot hold NUL: such a query parameter is invalid, not a server error."""
    bad = [
        FieldError(key.replace("\x00", ""), "must not contain NUL (\\u0000) characters")
        for key, value in request.query_params.multi_items()
        if "\x00" in key or "\x00" in value
    ]
    if bad:
        raise invalid(bad)
