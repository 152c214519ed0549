"""GET /api/v1/schedules/preview as the dashboard expects it, until the API serves it.

Asked of the API's owner: `?cron=&timezone=&count=` answers
`{"cron", "timezone", "description", "nextRuns": [ISO-8601 UTC, ...]}`, or a 422 problem with
`errors: [{"field": "cron" | "timezone", "message"}]`. Only mounted when the API lacks it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from cron_descriptor import get_description
from litestar import get
from litestar.params import QueryParameter

from domain.cron import CronSchedule, normalise_expression, zone

Cron = Annotated[str, QueryParameter(name="cron", max_length=200)]
Zone = Annotated[str, QueryParameter(name="timezone", max_length=100)]
Count = Annotated[int, QueryParameter(name="count", ge=1, le=50)]


@get("/api/v1/schedules/preview", include_in_schema=False)
async def schedule_preview(cron: Cron, timezone: Zone = "UTC", count: Count = 5) -> dict[str, Any]:
    """The next fire times of a cron expression and what it means in words."""
    expression = normalise_expression(cron, field="cron")
    zone(timezone)
    fires = CronSchedule(expression, timezone).next_n(datetime.now(UTC), count)
    try:
        words = get_description(expression) if not expression.startswith("@") else expression
    except Exception:  # the description is a courtesy; the schedule itself is valid
        words = expression
    return {
        "cron": expression,
        "timezone": timezone,
        "description": words,
        "nextRuns": [fire.isoformat().replace("+00:00", "Z") for fire in fires],
    }
