"""Command handlers for jobs: create, update, enable, disable, delete and run now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

from application.commands import CreateJob, DeleteJob, DisableJob, EnableJob, ExecuteJob, UpdateJob
from application.dependencies import Dependencies, retry_on_conflict
from application.errors import PreconditionFailed
from application.results import Outcome
from domain.errors import InvalidValue, InvalidValues
from domain.execution import Execution
from domain.execution_values import JobSnapshot, Trigger, TriggerType
from domain.job import Job, new_job_id
from domain.job_definition import JobDefinition

_NESTED = {"retry", "misfire"}


async def create_job(command: CreateJob, deps: Dependencies) -> Outcome[Job]:
    definition = _checked(command.definition, deps)
    job_id = command.job_id or new_job_id()
    job = Job.create(
        job_id, definition, enabled=command.enabled, actor=command.actor, at=deps.clock.now()
    )
    return Outcome(job, await deps.store.save(job))


@retry_on_conflict
async def update_job(command: UpdateJob, deps: Dependencies) -> Outcome[Job]:
    job = await _load(command.job_id, command.expected_version, deps)
    definition = _checked(apply_changes(job.definition, command.changes), deps)
    changed = job.update(definition, actor=command.actor, at=deps.clock.now())
    return Outcome(job, await deps.store.save(job) if changed else 0, changed)


@retry_on_conflict
async def enable_job(command: EnableJob, deps: Dependencies) -> Outcome[Job]:
    job = await _load(command.job_id, command.expected_version, deps)
    changed = job.enable(actor=command.actor, at=deps.clock.now())
    return Outcome(job, await deps.store.save(job) if changed else 0, changed)


@retry_on_conflict
async def disable_job(command: DisableJob, deps: Dependencies) -> Outcome[Job]:
    job = await _load(command.job_id, command.expected_version, deps)
    changed = job.disable(actor=command.actor, at=deps.clock.now())
    return Outcome(job, await deps.store.save(job) if changed else 0, changed)


@retry_on_conflict
async def delete_job(command: DeleteJob, deps: Dependencies) -> Outcome[Job]:
    job = await _load(command.job_id, command.expected_version, deps)
    job.delete(actor=command.actor, at=deps.clock.now())
    return Outcome(job, await deps.store.save(job))


async def execute_job(command: ExecuteJob, deps: Dependencies) -> Outcome[Execution]:
    """Request a manual run with a snapshot of the job as it is now."""
    job = await deps.store.load(command.job_id, Job)
    job.check_can_run()
    snapshot = snapshot_of(job, command.config)
    trigger = Trigger(TriggerType.MANUAL, command.actor)
    execution = Execution.request(uuid4(), snapshot, trigger, at=deps.clock.now())
    return Outcome(execution, await deps.store.save(execution))


def snapshot_of(job: Job, config: Mapping[str, Any] | None = None) -> JobSnapshot:
    """The definition an execution will run with, with an optional config override on top."""
    return job_snapshot(job.id, job.definition, job.version, config)


def job_snapshot(
    job_id: UUID,
    definition: JobDefinition,
    version: int,
    config: Mapping[str, Any] | None = None,
) -> JobSnapshot:
    """A job's definition at `version`, frozen for one execution (config override on top)."""
    return JobSnapshot(
        job_id=job_id,
        job_name=definition.name,
        module_id=definition.module_id,
        handler=definition.handler,
        timeout_ms=definition.timeout_ms,
        retry=definition.retry,
        config={**definition.config, **(config or {})},
        job_version=version,
        webhooks=definition.webhooks,
    )


def apply_changes(definition: JobDefinition, changes: Mapping[str, Any]) -> JobDefinition:
    """Fields present change, absent stay; `retry` and `misfire` change field by field."""
    flat = {key: value for key, value in changes.items() if key not in _NESTED}
    if "retry" in changes:
        flat["retry"] = replace(definition.retry, **changes["retry"])
    if "misfire" in changes:
        flat["misfire"] = replace(definition.misfire, **changes["misfire"])
    return replace(definition, **flat)


def _checked(definition: JobDefinition, deps: Dependencies) -> JobDefinition:
    """Validate every field and the module/handler reference; report all problems at once."""
    problems: list[InvalidValue] = []
    try:
        definition = definition.validated()
    except InvalidValues as invalid:
        problems += invalid.errors
    for field, message in deps.modules.problems_with_handler(
        definition.module_id, definition.handler
    ):
        problems.append(InvalidValue(field, message))
    if problems:
        raise InvalidValues(problems)
    return definition


async def _load(job_id: Any, expected_version: int | None, deps: Dependencies) -> Job:
    job = await deps.store.load(job_id, Job)
    if expected_version is not None and job.version != expected_version:
        raise PreconditionFailed(expected_version, job.version)
    return job
