"""Command handlers for modules: register from a manifest (idempotent), enable, disable."""

from __future__ import annotations

from application.commands import DisableModule, EnableModule, RegisterModule
from application.dependencies import Dependencies, retry_on_conflict
from application.errors import NotFound
from application.results import Outcome
from domain.job import Job, module_job_id
from domain.job_definition import JobDefinition
from domain.module import Module, module_id


@retry_on_conflict
async def register_module(command: RegisterModule, deps: Dependencies) -> Outcome[Module]:
    """Create or update the module and its declared jobs in one atomic save.

    A job's definition follows its manifest only when the manifest changed, so edits made
    through the API survive restarts of an unchanged module. Jobs dropped from the manifest
    are deleted; their executions stay readable.
    """
    now, actor = deps.clock.now(), command.actor
    try:
        module = await deps.store.load(module_id(command.manifest.name), Module)
        previous_jobs = module.manifest.jobs
        manifest_changed = module.update(command.manifest, actor=actor, at=now)
    except NotFound:
        module = Module.register(command.manifest, actor=actor, at=now)
        previous_jobs, manifest_changed = (), True
    jobs = [await _declared_job(d, command, manifest_changed, deps) for d in command.jobs]
    jobs += await _dropped_jobs(previous_jobs, command, deps)
    changed = [aggregate for aggregate in (module, *jobs) if aggregate is not None]
    position = await deps.store.save(*changed)
    return Outcome(module, position, changed=position > 0)


async def _declared_job(
    definition: JobDefinition, command: RegisterModule, manifest_changed: bool, deps: Dependencies
) -> Job | None:
    job_id = module_job_id(command.manifest.name, definition.name)
    now = deps.clock.now()
    try:
        job = await deps.store.load(job_id, Job)
    except NotFound:
        return Job.create(job_id, definition, enabled=True, actor=command.actor, at=now)
    if job.deleted or not manifest_changed:
        return None
    return job if job.update(definition, actor=command.actor, at=now) else None


async def _dropped_jobs(
    previous_jobs: tuple[str, ...], command: RegisterModule, deps: Dependencies
) -> list[Job]:
    declared = {definition.name for definition in command.jobs}
    dropped = []
    for name in previous_jobs:
        if name in declared:
            continue
        try:
            job = await deps.store.load(module_job_id(command.manifest.name, name), Job)
        except NotFound:
            continue
        if not job.deleted:
            job.delete(actor=command.actor, at=deps.clock.now())
            dropped.append(job)
    return dropped


@retry_on_conflict
async def enable_module(command: EnableModule, deps: Dependencies) -> Outcome[Module]:
    module = await deps.store.load(module_id(command.name), Module)
    changed = module.enable(actor=command.actor, at=deps.clock.now())
    return Outcome(module, await deps.store.save(module) if changed else 0, changed)


@retry_on_conflict
async def disable_module(command: DisableModule, deps: Dependencies) -> Outcome[Module]:
    module = await deps.store.load(module_id(command.name), Module)
    changed = module.disable(actor=command.actor, at=deps.clock.now())
    return Outcome(module, await deps.store.save(module) if changed else 0, changed)
