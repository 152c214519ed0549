"""The scheduler's common case: occurrences due now, all within their grace.

They are read off each job's live cron iterator (no planning from the cursor), grouped by
instant, built ahead of it and saved when it comes.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.scheduling.directory import ScheduledJob
from domain.job_definition import OverlapPolicy


@dataclass(frozen=True, slots=True)
class OnTime:
    """A job's occurrences due now, all within its grace, and the one after them."""

    job: ScheduledJob
    instants: list[datetime]
    following: datetime
    version: int  # the job's version when decided: a later one cancels the decision

    @property
    def overlap_free(self) -> bool:
        return self.job.definition.overlap is OverlapPolicy.ALLOW


def on_time_occurrences(job: ScheduledJob, due: datetime, now: datetime) -> OnTime | None:
    """The occurrences due from `due` on if all are within the grace, else None (the full
    planner decides). A scheduler a second or two behind stays on this cheap path: it
    reads the live cron iterator instead of planning from the cursor anew."""
    grace = timedelta(milliseconds=job.definition.misfire.grace_ms)
    if job.fires is None or now - due > grace:
        return None
    instants = [due]
    following = next(job.fires)  # this also runs ahead of `due` (the scheduler's lead)
    while following <= now:
        instants.append(following)
        following = next(job.fires)
    return OnTime(job, instants, following, job.version)


def by_instant(due: list[OnTime]) -> list[tuple[datetime, list[OnTime]]]:
    """Entries grouped by their last instant, earliest first: one save per instant."""
    groups: dict[datetime, list[OnTime]] = {}
    for entry in due:
        groups.setdefault(entry.instants[-1], []).append(entry)
    return sorted(groups.items(), key=lambda item: item[0])


@contextlib.contextmanager
def collector_deferred() -> Iterator[None]:
    """No cyclic-GC pass while an instant's runs are being saved: they are due now, and a
    full pass over a large scheduler's heap takes ~100 ms. Collection resumes right after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
