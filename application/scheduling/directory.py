"""The scheduler's view of jobs, modules and runs in flight, kept current from the log.

Loaded once from the read models, then every job, module and execution event is applied in
log order. Versions guard against applying a job event the read model already included.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from application.jobs import job_snapshot
from application.scheduling.plan import RunsInFlight
from application.views import ExecutionView, JobView, ModuleView, job_definition
from domain.execution import TERMINAL_EVENTS, Execution
from domain.execution_values import JobSnapshot
from domain.job import Job
from domain.job_definition import JobDefinition
from domain.module import Module, module_id


class Change(Enum):
    SCHEDULE = "schedule"  # (re)compute the next occurrence
    ENABLED = "enabled"  # record what was skipped while disabled, then schedule
    MODULE_ENABLED = "module-enabled"
    REMOVED = "removed"


@dataclass
class ScheduledJob:
    job_id: UUID
    definition: JobDefinition
    version: int
    enabled: bool
    created_at: datetime
    runs: RunsInFlight = field(default_factory=RunsInFlight)
    cursor: datetime | None = None
    next_due: datetime | None = None
    fires: Iterator[datetime] | None = None  # live cron iterator positioned after next_due

    def snapshot(self) -> JobSnapshot:
        """What a run requested now runs with: the definition as of this point in the log."""
        return job_snapshot(self.job_id, self.definition, self.version)


@dataclass
class JobDirectory:
    jobs: dict[UUID, ScheduledJob] = field(default_factory=dict)
    modules: dict[str, bool] = field(default_factory=dict)
    _module_names: dict[UUID, str] = field(default_factory=dict)
    _runs: dict[UUID, tuple[UUID, UUID | None]] = field(default_factory=dict)

    def active(self, job: ScheduledJob) -> bool:
        """Scheduled, enabled, and its module enabled (unknown modules count as enabled)."""
        module_on = self.modules.get(job.definition.module_id, True)
        return job.enabled and module_on and job.definition.schedule is not None

    def load_job(self, view: JobView) -> None:
        self.jobs[view.id] = ScheduledJob(
            view.id, job_definition(view), view.version, view.enabled, view.created_at
        )

    def load_module(self, view: ModuleView) -> None:
        self.modules[view.name] = view.enabled
        self._module_names[module_id(view.name)] = view.name

    def load_run(self, view: ExecutionView) -> None:
        self._add_run(view.job_id, view.id, view.wait_for)

    def jobs_of_module(self, name: str) -> list[ScheduledJob]:
        return [job for job in self.jobs.values() if job.definition.module_id == name]

    def observe(self, event: Any) -> list[tuple[Change, UUID | str, datetime]]:
        """Apply one store event; returns what the scheduler must act on."""
        if isinstance(event, Job.Event | Job.Created):
            return self._job_event(event)
        if isinstance(event, Module.Event | Module.Created):
            return self._module_event(event)
        if isinstance(event, Execution.Created):
            self._add_run(event.job.job_id, event.originator_id, event.wait_for)
        elif isinstance(event, TERMINAL_EVENTS):
            self._finish_run(event.originator_id)
        return []

    def _job_event(self, event: Any) -> list[tuple[Change, UUID | str, datetime]]:
        job_id = event.originator_id
        if isinstance(event, Job.Created):
            if job_id not in self.jobs:
                self.jobs[job_id] = ScheduledJob(
                    job_id, event.definition, 1, event.enabled, event.timestamp
                )
            return [(Change.SCHEDULE, job_id, event.timestamp)]
        job = self.jobs.get(job_id)
        if job is None or event.originator_version <= job.version:
            return []  # already part of what we loaded
        job.version = event.originator_version
        return [(self._job_change(job, event), job_id, event.timestamp)]

    def _job_change(self, job: ScheduledJob, event: Any) -> Change:
        if isinstance(event, Job.Updated):
            job.definition = event.definition
            return Change.SCHEDULE
        if isinstance(event, Job.Enabled):
            job.enabled = True
            return Change.ENABLED
        if isinstance(event, Job.Disabled):
            job.enabled = False
            return Change.SCHEDULE
        del self.jobs[job.job_id]
        return Change.REMOVED

    def _module_event(self, event: Any) -> list[tuple[Change, UUID | str, datetime]]:
        if isinstance(event, Module.Created | Module.Updated):
            name = event.manifest.name
            self._module_names[event.originator_id] = name
            if isinstance(event, Module.Created):
                self.modules[name] = True
            return []
        known = self._module_names.get(event.originator_id)
        if known is None:
            return []
        name = known
        was_enabled = self.modules.get(name, True)
        self.modules[name] = isinstance(event, Module.Enabled)
        if isinstance(event, Module.Enabled) and not was_enabled:
            return [(Change.MODULE_ENABLED, name, event.timestamp)]
        return [(Change.SCHEDULE, job.job_id, event.timestamp) for job in self.jobs_of_module(name)]

    def _add_run(self, job_id: UUID, execution_id: UUID, wait_for: UUID | None) -> None:
        job = self.jobs.get(job_id)
        if job is None or execution_id in self._runs:
            return
        self._runs[execution_id] = (job_id, wait_for)
        if execution_id not in job.runs.unfinished:
            job.runs.unfinished.append(execution_id)
        if wait_for is not None and wait_for in job.runs.unfinished:
            job.runs.queued = execution_id

    def _finish_run(self, execution_id: UUID) -> None:
        job_id, _ = self._runs.pop(execution_id, (None, None))
        job = self.jobs.get(job_id) if job_id else None
        if job is None:
            return
        if execution_id in job.runs.unfinished:
            job.runs.unfinished.remove(execution_id)
        queued = job.runs.queued
        if queued == execution_id or (
            queued and self._runs.get(queued, (None, None))[1] == execution_id
        ):
            job.runs.queued = None  # the queued run starts now: no longer waiting
