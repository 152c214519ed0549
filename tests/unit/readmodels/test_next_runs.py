"""Cached next fire times equal the cron schedule's own answer at every instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.cron import CronSchedule
from infrastructure.readmodels.next_runs import NextRuns

START = datetime(2026, 3, 29, 0, 0, 7, tzinfo=UTC)  # the night Europe/Berlin springs forward


@pytest.mark.parametrize(
    ("schedule", "zone"),
    [("*/5 * * * *", "UTC"), ("30 2 * * *", "Europe/Berlin"), ("0 9 * * 1", "America/New_York")],
)
def test_cached_next_runs_match_the_schedule(schedule: str, zone: str) -> None:
    cache, cron = NextRuns(), CronSchedule(schedule, zone)
    for step in range(0, 3 * 24 * 60, 7):  # every 7 minutes over three days, in order
        now = START + timedelta(minutes=step)
        assert cache.after(schedule, zone, now) == cron.next_after(now)


def test_going_back_in_time_recomputes() -> None:
    cache, cron = NextRuns(), CronSchedule("*/5 * * * *")
    cache.after("*/5 * * * *", "UTC", START + timedelta(hours=1))
    assert cache.after("*/5 * * * *", "UTC", START) == cron.next_after(START)
