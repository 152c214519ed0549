"""Jobs: create, list, read, update, delete, enable, disable, run now, history."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.commands import DeleteJob, DisableJob, EnableJob, ExecuteJob
from application.jobs import create_job, delete_job, disable_job, enable_job, execute_job
from application.jobs import update_job as update_job_command
from application.results import Outcome
from application.views import JobFilters
from domain.job import Job
from interfaces.http.body import decode_struct, read_json
from interfaces.http.job_input import ACTOR, create_command, update_command
from interfaces.http.openapi import body_operation, errors
from interfaces.http.params import (
    DEFAULT_LIMIT,
    Cursor,
    IfMatch,
    Limit,
    etag,
    expected_version,
    page,
    path_id,
)
from interfaces.http.problems import ProblemError
from interfaces.http.render import (
    caught_up,
    created_view,
    execution_body,
    execution_view,
    history_body,
    job_body,
    job_view,
    view_after,
)
from interfaces.http.schemas.common import HistoryResponse
from interfaces.http.schemas.executions import ExecutionResponse
from interfaces.http.schemas.jobs import (
    ExecuteRequest,
    JobCreateRequest,
    JobPage,
    JobResponse,
    JobUpdateRequest,
)
from interfaces.http.services import ApiServices

Services = NamedDependency[ApiServices]
AnyRequest = Request[Any, Any, Any]
Enabled = Annotated[bool | None, QueryParameter(name="enabled", description="true or false")]
ModuleId = Annotated[str | None, QueryParameter(name="moduleId", max_length=200)]
Search = Annotated[
    str | None, QueryParameter(name="q", max_length=200, description="part of the name")
]


class JobController(Controller):
    path = "/jobs"
    tags = ["jobs"]

    @post(
        "/",
        status_code=201,
        operation_class=body_operation(JobCreateRequest),
        responses=errors(400, 413, 415, 422),
    )
    async def create(self, request: AnyRequest, services: Services) -> Response[JobResponse]:
        """Create a job; `timeout` and `retries` default to the server's job defaults."""
        command = create_command(await read_json(request), services.deps)
        outcome = await create_job(command, services.deps)
        return await job_answer(services, outcome, 201)

    @get("/", responses=errors(400, 422))
    async def list_jobs(
        self,
        *,
        services: Services,
        enabled: Enabled = None,
        module_id: ModuleId = None,
        q: Search = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> JobPage:
        """Jobs, filtered by `enabled`, `moduleId` and `q` (part of the name)."""
        filters = JobFilters(enabled=enabled, module_id=module_id, q=q or None)
        found = await services.jobs.list_jobs(filters, page(limit, cursor))
        return JobPage([job_body(view) for view in found.items], found.next_cursor)

    @get("/{job_id:str}", responses=errors(404))
    async def get_job(self, job_id: FromPath[str], services: Services) -> Response[JobResponse]:
        """One job, with its ETag (its version)."""
        view = await services.jobs.get_job(path_id(job_id, "job"))
        if view is None:
            raise _not_found(job_id)
        return Response(job_body(view), headers={"ETag": etag(view.version)})

    @put(
        "/{job_id:str}",
        operation_class=body_operation(JobUpdateRequest),
        responses=errors(400, 404, 409, 412, 413, 415, 422),
    )
    async def update(
        self, job_id: FromPath[str], request: AnyRequest, services: Services, if_match: IfMatch
    ) -> Response[JobResponse]:
        """Change the fields sent; the others stay. A stale If-Match gets 412."""
        identifier = path_id(job_id, "job")
        data = await read_json(request)
        current = await services.jobs.get_job(identifier)
        version = expected_version(if_match)
        command = update_command(data, identifier, current, services.deps, version)
        return await job_answer(services, await update_job_command(command, services.deps))

    @delete("/{job_id:str}", status_code=204, responses=errors(404, 409, 412))
    async def remove(self, job_id: FromPath[str], services: Services, if_match: IfMatch) -> None:
        """Delete a job: it accepts no more commands; its executions and history stay."""
        command = DeleteJob(path_id(job_id, "job"), ACTOR, expected_version(if_match))
        await caught_up(services, (await delete_job(command, services.deps)).position)

    @put("/{job_id:str}/enable", responses=errors(404, 409, 412))
    async def enable(
        self, job_id: FromPath[str], services: Services, if_match: IfMatch
    ) -> Response[JobResponse]:
        """Let the job run on its schedule and triggers again (a repeat changes nothing)."""
        command = EnableJob(path_id(job_id, "job"), ACTOR, expected_version(if_match))
        return await job_answer(services, await enable_job(command, services.deps))

    @put("/{job_id:str}/disable", responses=errors(404, 409, 412))
    async def disable(
        self, job_id: FromPath[str], services: Services, if_match: IfMatch
    ) -> Response[JobResponse]:
        """Stop scheduled and triggered runs; manual runs stay possible."""
        command = DisableJob(path_id(job_id, "job"), ACTOR, expected_version(if_match))
        return await job_answer(services, await disable_job(command, services.deps))

    @post(
        "/{job_id:str}/execute",
        status_code=202,
        operation_class=body_operation(ExecuteRequest, required=False),
        responses=errors(400, 404, 409, 413, 415, 422),
    )
    async def execute(
        self, job_id: FromPath[str], request: AnyRequest, services: Services
    ) -> Response[ExecutionResponse]:
        """Run the job now; `config` in the body is merged over the job's for this run."""
        identifier = path_id(job_id, "job")
        data = await read_json(request, optional=True)
        body = ExecuteRequest() if data is None else decode_struct(data, ExecuteRequest)
        command = ExecuteJob(identifier, ACTOR, body.config)
        outcome = await execute_job(command, services.deps)
        view = await created_view(services, outcome, execution_view)
        return Response(execution_body(view), status_code=202)

    @get("/{job_id:str}/history", responses=errors(404))
    async def history(self, job_id: FromPath[str], services: Services) -> HistoryResponse:
        """The job's own events in order: type, time, actor and what changed."""
        entries = await services.jobs.job_history(path_id(job_id, "job"))
        if not entries:
            raise _not_found(job_id)
        return history_body(entries)


async def job_answer(
    services: ApiServices, outcome: Outcome[Job], status: int = 200
) -> Response[JobResponse]:
    """The job after a command, as the next GET will show it, with its new ETag."""
    body = job_body(await view_after(services, outcome, services.jobs.get_job, job_view))
    headers = {"ETag": etag(outcome.value.version)}
    if status == 201:
        headers["Location"] = f"/api/v1/jobs/{outcome.value.id}"
    return Response(body, status_code=status, headers=headers)


def _not_found(job_id: str) -> ProblemError:
    return ProblemError(404, f"no job with id {job_id!r}")
