"""The dashboard's pure helpers: times in words, durations, chart geometry, form choices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from web.charts import Point, bar_chart, stacked
from web.formatting import as_time, duration, in_words, percent, query_with, schedule_words
from web.pages.executions import execution_filters
from web.pages.job_form import schedule_choice

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "words"),
    [
        (timedelta(minutes=3, seconds=10), "in 3 minutes"),
        (timedelta(seconds=1), "in 1 second"),
        (-timedelta(hours=2, minutes=5), "2 hours ago"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(milliseconds=200), "just now"),
    ],
)
def test_moments_in_words(offset: timedelta, words: str) -> None:
    assert in_words(NOW + offset, NOW) == words


def test_times_and_durations_for_people() -> None:
    assert as_time(NOW) == "2026-11-29 10:00:00 UTC"
    assert as_time("2026-11-29T10:00:00Z") == "2026-11-29 10:00:00 UTC"
    assert as_time(None) == "—"
    assert [duration(v) for v in (850, 4200, 185_000, 7_440_000, None)] == [
        "850 ms",
        "4.2 s",
        "3 min 5 s",
        "2 h 4 min",
        "—",
    ]
    assert percent(0.875) == "88%"
    assert percent(None) == "—"


def test_bars_are_scaled_to_the_peak_and_never_vanish() -> None:
    chart = bar_chart([Point("a", 0), Point("b", 5), Point("c", 10)], width=300, height=100)
    heights = [bar.height for bar in chart.bars]
    assert heights == [1.0, 50.0, 100.0]
    assert chart.bars[2].y == 0
    assert bar_chart([]).bars == ()


def test_stacked_shares_skip_empty_parts() -> None:
    parts = stacked([Point("ok", 3, "COMPLETED"), Point("none", 0), Point("bad", 1, "FAILED")])
    assert [(p.start, p.size, p.tone) for p in parts] == [
        (0, 0.75, "COMPLETED"),
        (0.75, 0.25, "FAILED"),
    ]
    assert stacked([Point("none", 0)]) == ()


def test_query_strings_keep_filters_and_change_the_cursor() -> None:
    params = {"status": "FAILED", "cursor": "abc", "jobId": ""}
    assert query_with(params, cursor="next") == "?status=FAILED&cursor=next"
    assert query_with(params, cursor=None) == "?status=FAILED"


def test_schedules_map_to_the_forms_choices() -> None:
    assert schedule_choice(None) == "manual"
    assert schedule_choice("*/5 * * * *") == "every-5-minutes"
    assert schedule_choice("7 3 * * *") == "custom"
    assert schedule_words("0 * * * *") == "Every hour"
    assert schedule_words("7 3 * * *") == ""


def test_unknown_filter_values_mean_any() -> None:
    assert execution_filters("running", "not-a-uuid").status == "RUNNING"
    assert execution_filters("NOPE", None).status is None
