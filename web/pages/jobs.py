"""Jobs: the list (filters, search, actions) and one job with its runs and history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from application.views import ExecutionFilters, ExecutionView, JobFilters, JobView, PageRequest
from web.charts import Point, bar_chart, stacked
from web.formatting import duration
from web.pages.support import (
    At,
    Cursor,
    Dashboard,
    as_bool,
    blank_to_none,
    caught_up,
    cursor_page,
    fragment,
    no_fragment,
    not_found,
    page,
)
from web.services import DashboardServices

Text = Annotated[str | None, QueryParameter(required=False, max_length=200)]
ModuleId = Annotated[str | None, QueryParameter(name="moduleId", required=False, max_length=200)]
RECENT_RUNS = 30


class JobPages(Controller):
    @get("/jobs", name="dashboard-jobs")
    async def jobs(
        self,
        *,
        dashboard: Dashboard,
        enabled: Text = None,
        module_id: ModuleId = None,
        q: Text = None,
        cursor: Cursor = None,
    ) -> Template:
        """Jobs by name, filtered by enabled/disabled and module, searched by name."""
        filters = JobFilters(as_bool(enabled), blank_to_none(module_id), blank_to_none(q))
        found = await cursor_page(dashboard.jobs.list_jobs, filters, cursor)
        modules = await dashboard.modules.list_modules()
        context = {"filters": filters, "modules": modules, "found": found, "cursor": cursor}
        return page("jobs/list.html", "jobs", "Jobs", **context)

    @get("/ui/jobs/{job_id:uuid}/row")
    async def row(self, job_id: FromPath[UUID], dashboard: Dashboard) -> Template | Response[None]:
        """One row of the list as it is now (after an action); nothing once deleted."""
        job = await dashboard.jobs.get_job(job_id)
        if job is None:
            return no_fragment()
        return fragment("partials/job_row.html", job=job)

    @get("/jobs/{job_id:uuid}", name="dashboard-job")
    async def job(self, job_id: FromPath[UUID], dashboard: Dashboard) -> Template:
        """The definition, recent runs with their chart, and the history timeline."""
        job = await dashboard.jobs.get_job(job_id)
        if job is None:
            return not_found("job", job_id)
        context = await _detail(dashboard, job)
        return page("jobs/detail.html", "jobs", job.name, **context)

    @get("/ui/jobs/{job_id:uuid}/detail")
    async def detail(
        self, job_id: FromPath[UUID], dashboard: Dashboard, at: At = None
    ) -> Template | Response[None]:
        """The job page's content as of now (read models caught up with the store)."""
        await caught_up(dashboard, at)
        job = await dashboard.jobs.get_job(job_id)
        if job is None:
            return no_fragment()
        return fragment("partials/job_detail.html", **await _detail(dashboard, job))


async def _detail(dashboard: DashboardServices, job: JobView) -> dict[str, Any]:
    runs = await dashboard.executions.list_executions(
        ExecutionFilters(job_id=job.id), PageRequest(RECENT_RUNS)
    )
    history = await dashboard.jobs.job_history(job.id)
    context = {"job": job, "runs": runs.items, "history": list(reversed(history))}
    return {**context, **charts(job, runs.items)}


def charts(job: JobView, runs: Sequence[ExecutionView]) -> dict[str, Any]:
    """Durations of the recent runs (oldest first) and the share of each outcome."""
    durations = [
        Point(f"{run.status} · {duration(run.duration_ms)}", run.duration_ms or 0, run.status)
        for run in reversed(runs)
    ]
    counts = job.runs
    outcomes = [
        Point(f"{counts.completed} completed", counts.completed, "COMPLETED"),
        Point(f"{counts.failed} failed", counts.failed, "FAILED"),
        Point(f"{counts.timeout} timed out", counts.timeout, "TIMEOUT"),
        Point(f"{counts.cancelled} cancelled", counts.cancelled, "CANCELLED"),
    ]
    finished = counts.completed + counts.failed + counts.timeout
    rate = counts.completed / finished if finished else None
    return {"durations": bar_chart(durations), "outcomes": stacked(outcomes), "success": rate}
