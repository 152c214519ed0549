from __future__ import annotations

from datetime import timedelta

import pytest

from domain.execution import Execution
from domain.execution_values import ErrorInfo
from domain.retry import MAX_BACKOFF_MS, MAX_RETRIES, RetryPolicy
from tests.unit.domain.builders import EXECUTION_ID, MANUAL, T0, at, snapshot

POLICY = RetryPolicy(retries=10, base_ms=1000, max_ms=10_000, jitter=True)
STEADY = RetryPolicy(retries=10, base_ms=1000, max_ms=10_000, jitter=False)


@pytest.mark.parametrize(
    ("retry_number", "ceiling"),
    [(1, 1000), (2, 2000), (3, 4000), (4, 8000), (5, 10_000), (6, 10_000), (25, 10_000)],
)
def test_the_ceiling_doubles_from_the_base_up_to_the_cap(retry_number: int, ceiling: int) -> None:
    assert POLICY.ceiling_ms(retry_number) == ceiling


@pytest.mark.parametrize(
    ("retry_number", "sample", "delay"),
    [
        (1, 0.0, 0),
        (1, 0.5, 500),
        (2, 0.25, 500),
        (3, 0.75, 3000),
        (4, 0.125, 1000),
        (5, 0.5, 5000),
        (9, 0.75, 7500),
        (1, 0.9999, 999),
    ],
)
def test_with_jitter_the_delay_is_the_ceiling_scaled_by_the_sample(
    retry_number: int, sample: float, delay: int
) -> None:
    assert POLICY.delay_ms(retry_number, sample) == delay


@pytest.mark.parametrize("sample", [0.0, 0.3, 0.9999])
@pytest.mark.parametrize(("retry_number", "ceiling"), [(1, 1000), (3, 4000), (7, 10_000)])
def test_without_jitter_the_delay_is_the_ceiling_whatever_the_sample(
    retry_number: int, ceiling: int, sample: float
) -> None:
    assert STEADY.delay_ms(retry_number, sample) == ceiling


def test_delays_grow_and_never_pass_the_cap() -> None:
    ceilings = [POLICY.ceiling_ms(n) for n in range(1, 60)]

    assert ceilings == sorted(ceilings)
    assert ceilings[0] == POLICY.base_ms
    assert max(ceilings) == POLICY.max_ms
    assert all(POLICY.delay_ms(n, 0.9999) < POLICY.max_ms for n in range(1, 60))


def test_a_huge_retry_number_gives_the_cap_without_overflowing() -> None:
    policy = RetryPolicy(base_ms=MAX_BACKOFF_MS, max_ms=MAX_BACKOFF_MS, jitter=False)

    assert policy.ceiling_ms(10_000) == MAX_BACKOFF_MS
    assert isinstance(policy.ceiling_ms(10_000), int)


def test_a_retry_number_below_one_is_treated_as_the_first_retry() -> None:
    assert STEADY.ceiling_ms(0) == STEADY.ceiling_ms(1) == 1000


@pytest.mark.parametrize("retries", [0, 3, 25])
def test_max_attempts_is_the_first_attempt_plus_the_retries(retries: int) -> None:
    assert RetryPolicy(retries=retries).max_attempts == retries + 1


def test_the_defaults_are_a_valid_policy() -> None:
    assert RetryPolicy().problems() == []


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        (RetryPolicy(retries=-1), "retries"),
        (RetryPolicy(retries=MAX_RETRIES + 1), "retries"),
        (RetryPolicy(base_ms=0, max_ms=1000), "backoff.baseMs"),
        (RetryPolicy(base_ms=5000, max_ms=4999), "backoff.maxMs"),
        (RetryPolicy(base_ms=1000, max_ms=MAX_BACKOFF_MS + 1), "backoff.maxMs"),
    ],
)
def test_an_out_of_bounds_policy_names_the_field(policy: RetryPolicy, field: str) -> None:
    assert [problem.field for problem in policy.problems()] == [field]


@pytest.mark.parametrize(
    "policy",
    [
        RetryPolicy(retries=0),
        RetryPolicy(retries=MAX_RETRIES),
        RetryPolicy(base_ms=1, max_ms=1),
        RetryPolicy(base_ms=MAX_BACKOFF_MS, max_ms=MAX_BACKOFF_MS),
    ],
)
def test_a_policy_at_its_bounds_is_valid(policy: RetryPolicy) -> None:
    assert policy.problems() == []


def test_the_retry_at_recorded_on_each_failed_attempt_follows_the_policy() -> None:
    job = snapshot(retries=4, base_ms=1000, max_ms=3000, jitter=True)
    execution = Execution.request(EXECUTION_ID, job, MANUAL, at=T0)
    samples = [0.5, 0.25, 0.75, 0.125]
    # min(3000, 1000 * 2^(n-1)) * sample for retries n = 1..4
    expected_ms = [500, 500, 2250, 375]

    recorded = []
    for number, sample in enumerate(samples, start=1):
        execution.start_attempt(number, worker="worker-1", at=at(100 * number))
        execution.fail_attempt(
            number, ErrorInfo("ValueError", "boom"), at=at(100 * number + 1), sample=sample
        )
        assert execution.next_attempt_at == at(100 * number + 1) + timedelta(
            milliseconds=expected_ms[number - 1]
        )
        recorded += [
            e for e in execution.collect_events() if isinstance(e, Execution.AttemptFailed)
        ]

    assert [event.retry_at - event.timestamp for event in recorded] == [
        timedelta(milliseconds=ms) for ms in expected_ms
    ]
    assert [job.retry.delay_ms(n, s) for n, s in enumerate(samples, start=1)] == expected_ms


def test_a_timed_out_or_lost_attempt_waits_the_same_backoff_as_a_failed_one() -> None:
    job = snapshot(retries=3, base_ms=2000, max_ms=60_000, jitter=True)
    execution = Execution.request(EXECUTION_ID, job, MANUAL, at=T0)
    execution.start_attempt(1, worker="worker-1", at=at(1))
    execution.time_out(1, at=at(40), sample=0.5)
    execution.start_attempt(2, worker="worker-2", at=at(50))

    execution.report_worker_lost(2, worker="worker-2", at=at(60), sample=0.5)

    assert execution.next_attempt_at == at(60) + timedelta(milliseconds=2000)
