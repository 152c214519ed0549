"""Executions: the list (filters, cursor pages, live rows) and one execution in full."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from application.views import ExecutionFilters, ExecutionView, JobFilters, PageRequest
from domain.execution_values import ExecutionStatus
from web.pages.support import (
    At,
    Cursor,
    Dashboard,
    as_uuid,
    caught_up,
    cursor_page,
    fragment,
    no_fragment,
    not_found,
    page,
)

Status = Annotated[str | None, QueryParameter(name="status", required=False)]
JobId = Annotated[str | None, QueryParameter(name="jobId", required=False)]
STATUSES = tuple(status.value for status in ExecutionStatus)
ACTIVE = ("PENDING", "RUNNING")
JOB_CHOICES = 500


class ExecutionPages(Controller):
    @get("/executions", name="dashboard-executions")
    async def executions(
        self,
        dashboard: Dashboard,
        status: Status = None,
        job_id: JobId = None,
        cursor: Cursor = None,
    ) -> Template:
        """Newest first, filtered by status and job, a cursor page at a time; rows update live."""
        filters = execution_filters(status, job_id)
        found = await cursor_page(dashboard.executions.list_executions, filters, cursor)
        jobs = await dashboard.jobs.list_jobs(JobFilters(), PageRequest(JOB_CHOICES))
        context = {"filters": filters, "statuses": STATUSES, "jobs": jobs.items, "cursor": cursor}
        return page("executions/list.html", "executions", "Executions", found=found, **context)

    @get("/ui/executions/rows")
    async def rows(
        self,
        *,
        dashboard: Dashboard,
        status: Status = None,
        job_id: JobId = None,
    ) -> Template:
        """The first page's rows as they are now (after the live stream reconnects)."""
        await caught_up(dashboard)
        filters = execution_filters(status, job_id)
        found = await cursor_page(dashboard.executions.list_executions, filters, None)
        return fragment("partials/execution_rows.html", executions=found.items)

    @get("/ui/executions/{execution_id:uuid}/row")
    async def row(
        self,
        *,
        execution_id: FromPath[UUID],
        dashboard: Dashboard,
        status: Status = None,
        job_id: JobId = None,
        at: At = None,
    ) -> Template | Response[None]:
        """One row as it is now; nothing when it does not match the list's filters."""
        await caught_up(dashboard, at)
        execution = await dashboard.executions.get_execution(execution_id)
        if execution is None or not matches(execution, execution_filters(status, job_id)):
            return no_fragment()
        return fragment("partials/execution_row.html", execution=execution)

    @get("/executions/{execution_id:uuid}", name="dashboard-execution")
    async def execution(self, execution_id: FromPath[UUID], dashboard: Dashboard) -> Template:
        """Everything about one run: attempts, error, result, logs, the job it ran."""
        execution = await dashboard.executions.get_execution(execution_id)
        if execution is None:
            return not_found("execution", execution_id)
        logs = await dashboard.executions.execution_logs(execution_id)
        title = f"Execution of {execution.job_name}"
        return page("executions/detail.html", "executions", title, **_detail(execution), logs=logs)

    @get("/ui/executions/{execution_id:uuid}/summary")
    async def summary(
        self, execution_id: FromPath[UUID], dashboard: Dashboard, at: At = None
    ) -> Template | Response[None]:
        """The changing part of the detail page (status, attempts, error, result)."""
        await caught_up(dashboard, at)
        execution = await dashboard.executions.get_execution(execution_id)
        if execution is None:
            return no_fragment()
        return fragment("partials/execution_summary.html", **_detail(execution))


def _detail(execution: ExecutionView) -> dict[str, Any]:
    return {"execution": execution, "active": execution.status in ACTIVE}


def execution_filters(status: str | None, job_id: str | None) -> ExecutionFilters:
    """Filters from query values; unknown statuses and malformed ids mean "any"."""
    known = (status or "").upper()
    return ExecutionFilters(status=known if known in STATUSES else None, job_id=as_uuid(job_id))


def matches(execution: ExecutionView, filters: ExecutionFilters) -> bool:
    if filters.status is not None and execution.status != filters.status:
        return False
    return filters.job_id is None or execution.job_id == filters.job_id
