"""Schedule preview: the next fire instants and a plain-English description of a cron."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from cron_descriptor import get_description
from litestar import get
from litestar.params import QueryParameter

from domain.cron import CronSchedule
from domain.errors import InvalidValue
from interfaces.http.openapi import errors
from interfaces.http.problems import FieldError, invalid

MAX_COUNT = 50


class SchedulePreviewResponse(msgspec.Struct, rename="camel"):
    expression: str
    timezone: str
    description: str
    next: list[datetime]


Cron = Annotated[
    str,
    QueryParameter(
        name="cron", min_length=1, max_length=200, description="5 or 6 fields, a preset, or @name"
    ),
]
Zone = Annotated[str, QueryParameter(name="timezone", max_length=64, description="IANA zone")]
Count = Annotated[int, QueryParameter(name="count", ge=1, le=MAX_COUNT)]


@get("/schedules/preview", tags=["schedules"], responses=errors(400, 422))
async def preview_schedule(
    cron: Cron, timezone: Zone = "UTC", count: Count = 5
) -> SchedulePreviewResponse:
    """The next `count` fire instants (UTC) of a cron expression in a time zone, described."""
    try:
        schedule = CronSchedule.parse(cron, timezone)
    except InvalidValue as error:
        field = "cron" if error.field == "schedule" else error.field
        raise invalid([FieldError(field=field, message=error.message)]) from None
    return SchedulePreviewResponse(
        expression=schedule.expression,
        timezone=schedule.timezone,
        description=_describe(schedule.expression),
        next=schedule.next_n(datetime.now(UTC), count),
    )


def _describe(expression: str) -> str:
    """In plain English; nicknames are described by what they stand for."""
    nicknames = {
        "@hourly": "0 * * * *",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *",
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
    }
    try:
        return str(get_description(nicknames.get(expression, expression)))
    except Exception:  # the description is a courtesy: the expression itself is valid
        return expression
