"""Executions: list, read, cancel, logs and history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, delete, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter

from application.commands import RequestCancel
from application.executions import request_cancel
from application.results import Outcome
from application.views import ExecutionFilters
from domain.errors import InvalidTransition
from domain.execution import Execution
from domain.execution_values import ExecutionStatus
from interfaces.http.openapi import errors
from interfaces.http.params import DEFAULT_LIMIT, Cursor, Limit, page, path_id, seq_cursor
from interfaces.http.problems import ProblemError
from interfaces.http.render import execution_body, execution_view, view_after
from interfaces.http.render import history_body as render_history
from interfaces.http.schemas.common import HistoryResponse
from interfaces.http.schemas.executions import (
    ExecutionPage,
    ExecutionResponse,
    LogLineResponse,
    LogPage,
)
from interfaces.http.services import ApiServices

Services = NamedDependency[ApiServices]
Status = Annotated[ExecutionStatus | None, QueryParameter(name="status")]
JobId = Annotated[UUID | None, QueryParameter(name="jobId")]


class ExecutionController(Controller):
    path = "/executions"
    tags = ["executions"]

    @get("/", responses=errors(400, 422))
    async def list_executions(
        self,
        services: Services,
        status: Status = None,
        job_id: JobId = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> ExecutionPage:
        """Executions newest first, filtered by `status` and `jobId`."""
        filters = ExecutionFilters(status=status.value if status else None, job_id=job_id)
        found = await services.executions.list_executions(filters, page(limit, cursor))
        return ExecutionPage([execution_body(view) for view in found.items], found.next_cursor)

    @get("/{execution_id:str}", responses=errors(404))
    async def get_execution(
        self, execution_id: FromPath[str], services: Services
    ) -> ExecutionResponse:
        """One execution with its trigger, attempts, result, error and job snapshot."""
        view = await services.executions.get_execution(path_id(execution_id, "execution"))
        if view is None:
            raise _not_found(execution_id)
        return execution_body(view)

    @delete(
        "/{execution_id:str}",
        status_code=200,
        responses={
            202: ResponseSpec(ExecutionResponse, description="Being stopped"),
            **errors(404, 409),
        },
    )
    async def cancel(
        self, execution_id: FromPath[str], services: Services
    ) -> Response[ExecutionResponse]:
        """Cancel: 200 once CANCELLED (a repeat too), 202 while a running handler is being
        stopped, 409 when it already finished otherwise."""
        identifier = path_id(execution_id, "execution")
        try:
            outcome = await request_cancel(RequestCancel(identifier, "api"), services.deps)
        except InvalidTransition as refused:
            if refused.state != ExecutionStatus.CANCELLED.value:
                raise
            execution = await services.deps.store.load(identifier, Execution)
            return await execution_answer(services, Outcome(execution, 0, False), 200)
        status = 200 if outcome.value.status is ExecutionStatus.CANCELLED else 202
        return await execution_answer(services, outcome, status)

    @get("/{execution_id:str}/logs", responses=errors(400, 404, 422))
    async def logs(
        self,
        execution_id: FromPath[str],
        services: Services,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> LogPage:
        """Log lines oldest first, a page at a time (the live tail is `/logs/stream`)."""
        identifier = await known_execution(services, execution_id)
        lines = await services.executions.execution_logs(identifier, seq_cursor(cursor), limit)
        items = [LogLineResponse(**_fields(line)) for line in lines]
        return LogPage(items, str(items[-1].seq) if len(items) == limit else None)

    @get("/{execution_id:str}/history", responses=errors(404))
    async def history(self, execution_id: FromPath[str], services: Services) -> HistoryResponse:
        """The execution's own events in order: requested, attempts, outcome."""
        identifier = await known_execution(services, execution_id)
        return render_history(await services.deps.store.history(identifier))


async def execution_answer(
    services: ApiServices, outcome: Outcome[Execution], status: int
) -> Response[ExecutionResponse]:
    """The execution after a command, as the next GET will show it."""
    view = await view_after(services, outcome, services.executions.get_execution, execution_view)
    return Response(execution_body(view), status_code=status)


async def known_execution(services: ApiServices, execution_id: str) -> UUID:
    """The id of an execution the read model knows, or a 404."""
    identifier = path_id(execution_id, "execution")
    if await services.executions.get_execution(identifier) is None:
        raise _not_found(execution_id)
    return identifier


def _fields(line: Any) -> dict[str, Any]:
    return {name: getattr(line, name) for name in LogLineResponse.__struct_fields__}


def _not_found(execution_id: str) -> ProblemError:
    return ProblemError(404, f"no execution with id {execution_id!r}")
