from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from application.scheduling.plan import Fire, RunsInFlight, Skip, disabled_period, plan
from domain.execution_values import occurrence_id
from domain.job_definition import CatchUp, JobDefinition, MisfirePolicy, OverlapPolicy
from domain.skipped_occurrences import SkipReason

JOB = uuid4()
T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def definition(schedule: str = "* * * * * *", **changes: object) -> JobDefinition:
    base = JobDefinition(name="j", module_id="m", handler="a.py", schedule=schedule)
    return replace(base, **changes).validated()  # type: ignore[arg-type]


def fires(decisions: list[Fire | Skip]) -> list[datetime]:
    return [d.instant for d in decisions if isinstance(d, Fire)]


def test_each_on_time_occurrence_fires_once_and_the_cursor_moves_to_the_last() -> None:
    outcome = plan(JOB, definition(), T0, T0 + timedelta(seconds=3), RunsInFlight())

    assert fires(outcome.decisions) == [T0 + timedelta(seconds=n) for n in (1, 2, 3)]
    assert outcome.cursor == T0 + timedelta(seconds=3)


def test_nothing_is_due_before_the_next_occurrence() -> None:
    outcome = plan(JOB, definition("0 * * * *"), T0, T0 + timedelta(minutes=59), RunsInFlight())

    assert outcome.decisions == []
    assert outcome.cursor == T0


@pytest.mark.parametrize(
    ("catch_up", "fired_late", "skipped"),
    [(CatchUp.NONE, 0, 100), (CatchUp.LATEST, 1, 99), (CatchUp.ALL, 5, 95)],
)
def test_occurrences_past_the_grace_period_follow_the_catch_up_policy(
    catch_up: CatchUp, fired_late: int, skipped: int
) -> None:
    job = definition(
        "* * * * * *", misfire=MisfirePolicy(grace_ms=10_000, catch_up=catch_up, limit=5)
    )
    now = T0 + timedelta(seconds=110)

    outcome = plan(JOB, job, T0, now, RunsInFlight())

    late = [t for t in fires(outcome.decisions) if t <= now - timedelta(seconds=10)]
    on_time = [t for t in fires(outcome.decisions) if t > now - timedelta(seconds=10)]
    [skip] = [d for d in outcome.decisions if isinstance(d, Skip)]
    assert len(late) == fired_late
    assert late == [T0 + timedelta(seconds=100 - n) for n in reversed(range(fired_late))]
    assert len(on_time) == 10
    # Each run says whether it is a catch-up, so a user can tell why it ran late.
    assert [d.instant for d in outcome.decisions if isinstance(d, Fire) and d.catch_up] == late
    assert (skip.reason, skip.first, skip.count) == (
        SkipReason.MISFIRE,
        T0 + timedelta(seconds=1),
        skipped,
    )
    assert skip.last == T0 + timedelta(seconds=skipped)


def test_a_long_downtime_is_counted_without_listing_every_occurrence() -> None:
    job = definition("* * * * * *", misfire=MisfirePolicy(0, CatchUp.NONE))
    outcome = plan(JOB, job, T0, T0 + timedelta(days=3), RunsInFlight())

    [skip] = [d for d in outcome.decisions if isinstance(d, Skip)]
    assert skip.estimated
    assert abs(skip.count - 3 * 86_400) <= 86_400 * 3 // 100


def test_skip_overlap_skips_while_a_run_is_unfinished() -> None:
    runs = RunsInFlight(unfinished=[uuid4()])
    outcome = plan(JOB, definition(overlap=OverlapPolicy.SKIP), T0, T0 + timedelta(seconds=2), runs)

    assert fires(outcome.decisions) == []
    assert [(d.reason, d.count) for d in outcome.decisions if isinstance(d, Skip)] == [
        (SkipReason.OVERLAP, 1),
        (SkipReason.OVERLAP, 1),
    ]


def test_skip_overlap_fires_the_first_and_skips_the_rest_when_idle() -> None:
    outcome = plan(
        JOB, definition(overlap=OverlapPolicy.SKIP), T0, T0 + timedelta(seconds=3), RunsInFlight()
    )

    assert fires(outcome.decisions) == [T0 + timedelta(seconds=1)]
    assert sum(isinstance(d, Skip) for d in outcome.decisions) == 2


def test_queue_overlap_queues_one_behind_the_running_one_and_skips_the_rest() -> None:
    running = uuid4()
    runs = RunsInFlight(unfinished=[running])
    outcome = plan(
        JOB, definition(overlap=OverlapPolicy.QUEUE), T0, T0 + timedelta(seconds=3), runs
    )

    [queued] = [d for d in outcome.decisions if isinstance(d, Fire)]
    assert queued == Fire(T0 + timedelta(seconds=1), wait_for=running)
    assert runs.queued == occurrence_id(JOB, queued.instant)
    assert sum(isinstance(d, Skip) for d in outcome.decisions) == 2


def test_allow_overlap_fires_everything() -> None:
    runs = RunsInFlight(unfinished=[uuid4()])
    outcome = plan(JOB, definition(), T0, T0 + timedelta(seconds=3), runs)

    assert len(fires(outcome.decisions)) == 3


def test_a_disabled_period_becomes_one_record_with_its_count() -> None:
    skip = disabled_period(
        definition("0 * * * *"), T0, T0 + timedelta(hours=5), SkipReason.DISABLED
    )

    assert skip == Skip(SkipReason.DISABLED, T0 + timedelta(hours=1), T0 + timedelta(hours=5), 5)


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        (datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # 03:00 CEST
        (
            datetime(2026, 10, 25, tzinfo=UTC),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),  # 1st 02:30
    ],
)
def test_a_0230_berlin_job_fires_exactly_once_on_dst_days_as_the_scheduler_ticks(
    day: datetime, expected_utc: datetime
) -> None:
    job = definition("30 2 * * *", timezone="Europe/Berlin")
    cursor, fired = day - timedelta(hours=3), []
    now = cursor
    while now < day + timedelta(hours=21):
        now += timedelta(minutes=5)
        outcome = plan(JOB, job, cursor, now, RunsInFlight())
        fired += fires(outcome.decisions)
        cursor = outcome.cursor

    assert fired == [expected_utc]
