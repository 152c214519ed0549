"""Job changes take effect from the next occurrence, without restarting the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.commands import DisableJob, EnableJob, UpdateJob
from application.jobs import disable_job, enable_job, update_job
from domain.skipped_occurrences import SkipReason
from interfaces.bootstrap.runtime import Runtime
from tests.integration.scheduler.conftest import (
    fires_by_job,
    scheduled_job,
    scheduled_requests,
    skip_records,
)
from tests.support.system import System
from tests.support.waiting import eventually

SECOND = timedelta(seconds=1)


async def fired(runtime: Runtime, job_id: object, count: int, after: datetime) -> list[datetime]:
    async def check() -> list[datetime]:
        instants = fires_by_job(await scheduled_requests(runtime)).get(job_id, [])  # type: ignore[call-overload]
        later = [t for t in instants if t > after]
        return later if len(later) >= count else []

    return await eventually(check, timeout=30)


async def test_disabling_stops_firing_and_enabling_again_records_what_was_skipped(
    runtime: Runtime, system: System
) -> None:
    system.start("projector")
    system.start("scheduler")
    job_id = await scheduled_job(runtime, "* * * * * *")
    await fired(runtime, job_id, 2, datetime.now(UTC))

    disabled = await disable_job(DisableJob(job_id, "test"), runtime.deps)
    disabled_at = disabled.value.enabled_changed_at
    await fired(runtime, await scheduled_job(runtime, "* * * * * *"), 3, disabled_at)
    enabled = await enable_job(EnableJob(job_id, "test"), runtime.deps)
    enabled_at = enabled.value.enabled_changed_at
    await fired(runtime, job_id, 1, enabled_at)

    instants = fires_by_job(await scheduled_requests(runtime))[job_id]
    [skipped] = [s for s in await skip_records(runtime) if s.job_id == job_id]
    assert skipped.reason is SkipReason.DISABLED
    # Nothing fires while disabled; fires and the skip record cover every occurrence, once.
    assert [t for t in instants if skipped.first <= t <= skipped.last] == []
    assert max(t for t in instants if t < skipped.first) == skipped.first - SECOND
    assert min(t for t in instants if t > skipped.last) == skipped.last + SECOND
    assert skipped.count == (skipped.last - skipped.first) // SECOND + 1
    # The record spans the disabled period (its first instant may be one a busy scheduler had
    # not decided yet when the disable arrived).
    assert disabled_at - SECOND <= skipped.first
    assert skipped.last <= enabled_at


async def test_a_new_cron_expression_applies_from_the_next_occurrence(
    runtime: Runtime, system: System
) -> None:
    system.start("projector")
    system.start("scheduler")
    job_id = await scheduled_job(runtime, "*/2 * * * * *")
    evens = await fired(runtime, job_id, 2, datetime.now(UTC))

    updated = await update_job(
        UpdateJob(job_id, {"schedule": "1-59/2 * * * * *"}, "test"), runtime.deps
    )
    changed_at = updated.value.modified_on
    odds = await fired(runtime, job_id, 3, changed_at)

    assert all(t.second % 2 == 0 for t in evens)
    assert all(t.second % 2 == 1 for t in odds)
