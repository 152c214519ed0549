"""The reaper: attempts whose worker stopped heartbeating are recorded as lost.

The domain decides what follows (a retry, or FAILED when none are left, or CANCELLED if a
cancel was requested). A stale read model can only cause a refused command, never a wrong
one: the aggregate checks the attempt is still running on that worker.
"""

from __future__ import annotations

import logging
from uuid import UUID

from application.commands import ReportWorkerLost
from application.dependencies import Dependencies
from application.errors import NotFound
from application.executions import report_worker_lost
from application.ports import WorkerLiveness
from application.queries import ExecutionQueries, every
from application.views import ExecutionFilters
from domain.errors import InvalidTransition

log = logging.getLogger(__name__)


async def reap_lost_attempts(
    queries: ExecutionQueries, workers: WorkerLiveness, deps: Dependencies, lease_seconds: float
) -> int:
    """Report every running attempt whose worker is gone; returns how many were reported."""
    live = await workers.live_workers(lease_seconds)
    now = deps.clock.now()
    reported = 0
    async for execution in every(queries.list_executions, ExecutionFilters(status="RUNNING")):
        attempt = execution.attempts[-1] if execution.attempts else None
        if attempt is None or attempt.worker in live:
            continue
        if (now - attempt.started_at).total_seconds() < lease_seconds:
            continue  # its worker may have registered after our liveness snapshot
        reported += await _report(execution.id, attempt.number, attempt.worker, deps)
    return reported


async def _report(execution_id: UUID, attempt: int, worker: str, deps: Dependencies) -> int:
    try:
        await report_worker_lost(ReportWorkerLost(execution_id, attempt, worker), deps)
    except (InvalidTransition, NotFound) as refused:
        log.debug("not reporting %s as lost: %s", execution_id, refused)
        return 0
    log.warning("attempt %d of %s was lost with worker %s", attempt, execution_id, worker)
    return 1
