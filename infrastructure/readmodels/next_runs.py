"""When an enabled, scheduled job fires next, computed at query time and cached per schedule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.cron import CronSchedule
from domain.errors import DomainError


class NextRuns:
    """Next fire times per (schedule, zone), reused while they are still ahead.

    If F is the first fire after t0, it is also the first fire after any t in [t0, F), so a
    page of jobs sharing a few schedules costs a few cron evaluations, not one per job.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._known: dict[tuple[str, str], tuple[datetime, datetime]] = {}

    def after(self, schedule: str, timezone: str, now: datetime) -> datetime:
        key = (schedule, timezone)
        known = self._known.get(key)
        if known is not None and known[0] <= now < known[1]:
            return known[1]
        fire = CronSchedule(schedule, timezone).next_after(now)
        if len(self._known) >= self._size:
            self._known.clear()  # a crude bound; schedules are few in practice
        self._known[key] = (now, fire)
        return fire


_NEXT_RUNS = NextRuns()


def next_run(definition: Mapping[str, Any], enabled: bool, now: datetime) -> datetime | None:
    schedule = definition["schedule"]
    if not enabled or not schedule:
        return None
    try:
        return _NEXT_RUNS.after(schedule, definition["timezone"], now)
    except (DomainError, ValueError, RuntimeError, KeyError):
        return None
