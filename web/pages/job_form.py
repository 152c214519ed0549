"""The job form, to create a job or edit one; it submits to the REST API from the browser."""

from __future__ import annotations

from functools import cache
from typing import Any
from uuid import UUID
from zoneinfo import available_timezones

from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Template

from application.views import JobView
from domain.cron import PRESET_LABELS, PRESETS
from domain.job_definition import (
    MAX_TIMEOUT_MS,
    MIN_TIMEOUT_MS,
    CatchUp,
    MisfirePolicy,
    OverlapPolicy,
)
from web.formatting import preset_of
from web.pages.support import Dashboard, not_found, page
from web.services import DashboardServices

MANUAL = "manual"
CATCH_UP_LABELS = {
    CatchUp.NONE: "Skip them",
    CatchUp.LATEST: "Run the latest once",
    CatchUp.ALL: "Run each of them",
}
CUSTOM = "custom"


class JobFormPages(Controller):
    @get("/jobs/new", name="dashboard-job-new")
    async def new(self, dashboard: Dashboard) -> Template:
        """An empty form: module and handler from the manifests, presets, the cron builder."""
        context = await _context(dashboard, None)
        return page("jobs/form.html", "jobs", "New job", **context)

    @get("/jobs/{job_id:uuid}/edit", name="dashboard-job-edit")
    async def edit(self, job_id: FromPath[UUID], dashboard: Dashboard) -> Template:
        """The form filled with the job's definition; saving sends only the form's fields."""
        job = await dashboard.jobs.get_job(job_id)
        if job is None:
            return not_found("job", job_id)
        context = await _context(dashboard, job)
        return page("jobs/form.html", "jobs", f"Edit {job.name}", **context)


async def _context(dashboard: DashboardServices, job: JobView | None) -> dict[str, Any]:
    return {
        "job": job,
        "modules": await dashboard.modules.list_modules(),
        "presets": [(key, PRESET_LABELS[key], PRESETS[key]) for key in PRESETS],
        "schedule_choice": schedule_choice(job.schedule if job else None),
        "zones": zones(),
        "overlaps": [policy.value for policy in OverlapPolicy],
        "timeout_range": (MIN_TIMEOUT_MS, MAX_TIMEOUT_MS),
        "catch_ups": [(policy.value, label) for policy, label in CATCH_UP_LABELS.items()],
        "default_catch_up": MisfirePolicy().catch_up.value,
    }


def schedule_choice(schedule: str | None) -> str:
    """Which option of the schedule menu a schedule is: manual, a preset or custom."""
    if not schedule:
        return MANUAL
    return preset_of(schedule) or CUSTOM


@cache
def zones() -> tuple[str, ...]:
    """IANA zone names for the time-zone suggestions, UTC first."""
    return ("UTC", *sorted(zone for zone in available_timezones() if zone != "UTC"))
