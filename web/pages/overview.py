"""The overview page: the headline numbers, refreshed live."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, get
from litestar.response import Template

from application.views import ExecutionFilters, Overview, PageRequest
from web.pages.support import At, Dashboard, caught_up, fragment, page
from web.services import DashboardServices

RECENT = 8


class OverviewPages(Controller):
    @get("/", name="dashboard-overview")
    async def overview(self, dashboard: Dashboard) -> Template:
        """Queue, running, success and failure, durations, events, workers; recent runs."""
        context = await _context(dashboard)
        return page("overview.html", "overview", "Overview", **context)

    @get("/ui/overview")
    async def panel(self, dashboard: Dashboard, at: At = None) -> Template:
        """The overview's live part as of now (read models caught up with the store)."""
        await caught_up(dashboard, at)
        return fragment("partials/overview_panel.html", **await _context(dashboard))


async def _context(dashboard: DashboardServices) -> dict[str, Any]:
    numbers = await dashboard.overview.overview(datetime.now(UTC))
    recent = await dashboard.executions.list_executions(ExecutionFilters(), PageRequest(RECENT))
    return {"numbers": numbers, "utilisation": utilisation(numbers), "recent": recent.items}


def utilisation(numbers: Overview) -> float | None:
    """Busy worker slots as a share of all live slots."""
    if numbers.worker_slots <= 0:
        return None
    return numbers.busy_slots / numbers.worker_slots
