"""Event triggers: each event matching a job's `triggers` requests one run of that job.

The execution id is derived from (job, event id), so an event seen twice (a relay retry, a
restarted follower) still runs each job once. A job is never triggered by its own
execution's events, which would loop for ever.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from application.commands import RequestEventExecution
from application.dependencies import Dependencies
from application.occurrences import request_event_execution
from application.scheduling.directory import JobDirectory, ScheduledJob
from domain.patterns import EventPattern

log = logging.getLogger(__name__)


class TriggerRouter:
    def __init__(self, deps: Dependencies, directory: JobDirectory) -> None:
        self._deps = deps
        self._directory = directory

    def listening(self) -> list[ScheduledJob]:
        """Enabled jobs (of enabled modules) that declare triggers; compute once per batch."""
        return [
            job
            for job in self._directory.jobs.values()
            if job.definition.triggers
            and job.enabled
            and self._directory.modules.get(job.definition.module_id, True)
        ]

    async def route(
        self, envelope: Mapping[str, Any], listening: list[ScheduledJob] | None = None
    ) -> int:
        """Request a run of every job this event triggers; returns how many were new."""
        started = 0
        for job in self._matching(envelope, self.listening() if listening is None else listening):
            outcome = await request_event_execution(
                RequestEventExecution(job.job_id, envelope), self._deps, job.snapshot()
            )
            started += outcome.changed
        return started

    def _matching(
        self, envelope: Mapping[str, Any], listening: list[ScheduledJob]
    ) -> list[ScheduledJob]:
        name = str(envelope["name"])
        own_job = str(envelope.get("payload", {}).get("jobId", ""))
        return [
            job
            for job in listening
            if str(job.job_id) != own_job
            and any(EventPattern(pattern).matches(name) for pattern in job.definition.triggers)
        ]
