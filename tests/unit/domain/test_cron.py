from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.cron import PRESET_LABELS, PRESETS, CronSchedule, normalise_expression, zone
from domain.errors import InvalidValue

BERLIN = ZoneInfo("Europe/Berlin")
# A Wednesday, a little after 10:07 UTC.
WEDNESDAY = datetime(2026, 1, 7, 10, 7, 30, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_walls(fires: list[datetime], tz: ZoneInfo = BERLIN) -> list[datetime]:
    return [fire.astimezone(tz).replace(tzinfo=None) for fire in fires]


def test_a_five_field_expression_fires_at_the_minute_and_hour_it_names() -> None:
    schedule = CronSchedule.parse("15 10 * * *")

    assert not schedule.has_seconds
    assert schedule.next_n(WEDNESDAY, 2) == [utc(2026, 1, 7, 10, 15), utc(2026, 1, 8, 10, 15)]


def test_ranges_steps_and_weekdays_are_understood() -> None:
    schedule = CronSchedule.parse("0 9-17/4 * * 1-5")

    fires = schedule.next_n(utc(2026, 1, 9, 12, 0), 4)  # a Friday

    assert fires == [
        utc(2026, 1, 9, 13, 0),
        utc(2026, 1, 9, 17, 0),
        utc(2026, 1, 12, 9, 0),  # Monday: the weekend is skipped
        utc(2026, 1, 12, 13, 0),
    ]


def test_a_six_field_expression_has_seconds_first() -> None:
    schedule = CronSchedule.parse("30 0 12 * * *")

    assert schedule.has_seconds
    assert schedule.next_after(WEDNESDAY) == datetime(2026, 1, 7, 12, 0, 30, tzinfo=UTC)


def test_a_six_field_expression_can_fire_several_times_a_minute() -> None:
    schedule = CronSchedule.parse("*/15 * * * * *")

    fires = schedule.next_n(WEDNESDAY, 4)

    assert fires == [WEDNESDAY + timedelta(seconds=s) for s in (15, 30, 45, 60)]


PRESET_FIRES = {
    "every-minute": [utc(2026, 1, 7, 10, 8), utc(2026, 1, 7, 10, 9), utc(2026, 1, 7, 10, 10)],
    "every-5-minutes": [utc(2026, 1, 7, 10, 10), utc(2026, 1, 7, 10, 15), utc(2026, 1, 7, 10, 20)],
    "every-15-minutes": [
        utc(2026, 1, 7, 10, 15),
        utc(2026, 1, 7, 10, 30),
        utc(2026, 1, 7, 10, 45),
    ],
    "every-30-minutes": [utc(2026, 1, 7, 10, 30), utc(2026, 1, 7, 11, 0), utc(2026, 1, 7, 11, 30)],
    "hourly": [utc(2026, 1, 7, 11, 0), utc(2026, 1, 7, 12, 0), utc(2026, 1, 7, 13, 0)],
    "every-6-hours": [utc(2026, 1, 7, 12, 0), utc(2026, 1, 7, 18, 0), utc(2026, 1, 8, 0, 0)],
    "daily-midnight": [utc(2026, 1, 8, 0, 0), utc(2026, 1, 9, 0, 0), utc(2026, 1, 10, 0, 0)],
    "daily-noon": [utc(2026, 1, 7, 12, 0), utc(2026, 1, 8, 12, 0), utc(2026, 1, 9, 12, 0)],
    "weekly-monday-9am": [utc(2026, 1, 12, 9, 0), utc(2026, 1, 19, 9, 0), utc(2026, 1, 26, 9, 0)],
}


def test_every_preset_has_a_label_and_an_expected_schedule_here() -> None:
    assert set(PRESET_LABELS) == set(PRESETS)
    assert set(PRESET_FIRES) == set(PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_a_preset_fires_when_its_name_says(preset: str) -> None:
    schedule = CronSchedule.parse(preset)

    assert schedule.expression == PRESETS[preset]
    assert schedule.next_n(WEDNESDAY, 3) == PRESET_FIRES[preset]


def test_a_preset_is_evaluated_in_the_schedules_time_zone() -> None:
    schedule = CronSchedule.parse("daily-noon", "Europe/Berlin")

    assert schedule.next_n(WEDNESDAY, 2) == [utc(2026, 1, 7, 11, 0), utc(2026, 1, 8, 11, 0)]


@pytest.mark.parametrize(
    ("nickname", "expected"),
    [
        ("@hourly", utc(2026, 1, 7, 11, 0)),
        ("@daily", utc(2026, 1, 8, 0, 0)),
        ("@midnight", utc(2026, 1, 8, 0, 0)),
        ("@weekly", utc(2026, 1, 11, 0, 0)),  # Sunday
        ("@monthly", utc(2026, 2, 1, 0, 0)),
        ("@yearly", utc(2027, 1, 1, 0, 0)),
        ("@annually", utc(2027, 1, 1, 0, 0)),
    ],
)
def test_a_nickname_fires_when_it_says(nickname: str, expected: datetime) -> None:
    schedule = CronSchedule.parse(nickname)

    assert schedule.expression == nickname
    assert schedule.next_after(WEDNESDAY) == expected


def test_an_expression_is_tidied_to_single_spaces() -> None:
    assert normalise_expression("  0   12 * *\t* ") == "0 12 * * *"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("", "expected 5 fields", id="empty"),
        pytest.param("* * * *", "expected 5 fields", id="four-fields"),
        pytest.param("* * * * * * *", "expected 5 fields", id="seven-fields"),
        pytest.param("@reboot", "expected 5 fields", id="unknown-nickname"),
        pytest.param("every-2-minutes", "expected 5 fields", id="unknown-preset"),
        pytest.param("61 * * * *", "out of range", id="minute-61"),
        pytest.param("0 24 * * *", "out of range", id="hour-24"),
        pytest.param("0 0 32 * *", "out of range", id="day-32"),
        pytest.param("0 0 * 13 *", "out of range", id="month-13"),
        pytest.param("0 0 * * 8", "out of range", id="weekday-8"),
        pytest.param("60 * * * * *", "out of range", id="second-60"),
        pytest.param("a b c d e", "is not acceptable", id="garbage"),
        pytest.param("*/0 * * * *", "step '0'", id="zero-step"),
        pytest.param("5-1-2 * * * *", "is not acceptable", id="bad-range"),
    ],
)
def test_a_bad_expression_is_refused_on_the_schedule_field(text: str, fragment: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        CronSchedule.parse(text)

    assert refused.value.field == "schedule"
    assert refused.value.message.startswith(f"invalid cron expression {text!r}")
    assert fragment in refused.value.message


def test_the_field_count_message_explains_what_is_expected() -> None:
    with pytest.raises(InvalidValue) as refused:
        normalise_expression("* * *")

    assert str(refused.value) == (
        "schedule: invalid cron expression '* * *': expected 5 fields "
        "(minute hour day-of-month month day-of-week), 6 with seconds first, "
        "a preset name or an @nickname"
    )


def test_the_field_name_of_a_bad_expression_can_be_chosen() -> None:
    with pytest.raises(InvalidValue) as refused:
        normalise_expression("nope", field="jobs[2].schedule")

    assert refused.value.field == "jobs[2].schedule"


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "europe/nowhere", "../etc/passwd", "/etc/localtime", "UTC+25"]
)
def test_an_unknown_time_zone_is_refused_on_the_timezone_field(name: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        CronSchedule.parse("* * * * *", name)

    assert refused.value.field == "timezone"
    assert refused.value.message == f"unknown IANA time zone {name!r}"


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_a_known_time_zone_is_accepted(name: str) -> None:
    assert zone(name) == ZoneInfo(name)
    assert CronSchedule.parse("* * * * *", name).timezone == name


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2026, 1, 7, 0, 0), utc(2026, 1, 7, 14, 0)),  # EST, UTC-5
        (utc(2026, 7, 7, 0, 0), utc(2026, 7, 7, 13, 0)),  # EDT, UTC-4
    ],
)
def test_a_schedule_fires_at_local_wall_clock_time(after: datetime, expected: datetime) -> None:
    schedule = CronSchedule.parse("0 9 * * *", "America/New_York")

    fire = schedule.next_after(after)

    assert fire == expected
    assert fire.utcoffset() == timedelta(0)


def test_next_after_is_strictly_after_the_given_instant() -> None:
    schedule = CronSchedule.parse("0 * * * *")

    assert schedule.next_after(utc(2026, 1, 7, 10, 0)) == utc(2026, 1, 7, 11, 0)


def test_next_after_accepts_an_instant_in_any_zone() -> None:
    schedule = CronSchedule.parse("0 * * * *")
    instant = utc(2026, 1, 7, 10, 30).astimezone(BERLIN)

    assert schedule.next_after(instant) == utc(2026, 1, 7, 11, 0)


# Daylight saving time in Europe/Berlin.

DAILY_0230 = CronSchedule.parse("30 2 * * *", "Europe/Berlin")


def test_a_0230_job_fires_once_at_0300_local_on_the_spring_forward_day() -> None:
    fires = DAILY_0230.between(utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 12, 0), limit=10)

    assert fires == [utc(2026, 3, 29, 1, 0)]
    assert local_walls(fires) == [datetime(2026, 3, 29, 3, 0)]


def test_a_0230_job_fires_once_at_the_first_0230_on_the_fall_back_day() -> None:
    fires = DAILY_0230.between(utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 12, 0), limit=10)

    assert fires == [utc(2026, 10, 25, 0, 30)]
    assert fires[0].astimezone(BERLIN).utcoffset() == timedelta(hours=2)


def test_a_0230_job_does_not_fire_again_when_asked_from_inside_the_repeated_hour() -> None:
    second_0200 = utc(2026, 10, 25, 1, 0)  # 02:00 CET, after 02:00-02:59 CEST has passed

    assert DAILY_0230.next_after(second_0200) == utc(2026, 10, 26, 1, 30)


def test_a_0230_job_fires_exactly_once_on_every_local_day_of_a_year() -> None:
    start = datetime(2026, 1, 1, tzinfo=BERLIN)
    end = datetime(2027, 1, 1, tzinfo=BERLIN)

    fires = DAILY_0230.between(start, end, limit=1000)

    per_day = Counter(fire.astimezone(BERLIN).date() for fire in fires)
    every_day = {date(2026, 1, 1) + timedelta(days=n) for n in range(365)}
    assert set(per_day) == every_day
    assert set(per_day.values()) == {1}
    assert DAILY_0230.count_between(start, end) == 365
    walls = Counter(fire.astimezone(BERLIN).strftime("%H:%M") for fire in fires)
    assert walls == {"02:30": 364, "03:00": 1}


def test_a_per_minute_job_fires_each_wall_clock_minute_once_across_the_fall_back_hour() -> None:
    schedule = CronSchedule.parse("* * * * *", "Europe/Berlin")

    # 01:50 CEST to 03:10 CET: 140 real minutes, 80 distinct wall-clock minutes.
    fires = schedule.between(utc(2026, 10, 24, 23, 50), utc(2026, 10, 25, 2, 10), limit=1000)

    expected_walls = [datetime(2026, 10, 25, 1, 51) + timedelta(minutes=n) for n in range(80)]
    assert local_walls(fires) == expected_walls
    assert fires == sorted(set(fires))
    # 02:59 fires in summer time; the next fire is 03:00 winter time, an hour and a minute later.
    assert utc(2026, 10, 25, 0, 59) in fires
    assert fires[fires.index(utc(2026, 10, 25, 0, 59)) + 1] == utc(2026, 10, 25, 2, 0)


def test_a_per_minute_job_collapses_the_missing_spring_forward_hour_into_one_fire() -> None:
    schedule = CronSchedule.parse("* * * * *", "Europe/Berlin")

    fires = schedule.between(utc(2026, 3, 29, 0, 50), utc(2026, 3, 29, 1, 10), limit=1000)

    assert fires == [utc(2026, 3, 29, 0, 51) + timedelta(minutes=n) for n in range(20)]
    walls = local_walls(fires)
    assert walls.count(datetime(2026, 3, 29, 3, 0)) == 1
    assert not [wall for wall in walls if wall.hour == 2]


def test_next_n_returns_that_many_fires_in_order() -> None:
    schedule = CronSchedule.parse("*/5 * * * *")

    assert schedule.next_n(utc(2026, 1, 7, 10, 0), 3) == [
        utc(2026, 1, 7, 10, 5),
        utc(2026, 1, 7, 10, 10),
        utc(2026, 1, 7, 10, 15),
    ]
    assert schedule.next_n(utc(2026, 1, 7, 10, 0), 0) == []


def test_between_excludes_the_start_and_includes_the_end() -> None:
    schedule = CronSchedule.parse("0 * * * *")

    fires = schedule.between(utc(2026, 1, 7, 10, 0), utc(2026, 1, 7, 13, 0), limit=100)

    assert fires == [utc(2026, 1, 7, 11, 0), utc(2026, 1, 7, 12, 0), utc(2026, 1, 7, 13, 0)]


def test_between_returns_at_most_limit_fires() -> None:
    schedule = CronSchedule.parse("* * * * *")

    fires = schedule.between(utc(2026, 1, 7, 10, 0), utc(2026, 1, 8, 10, 0), limit=5)

    assert fires == [utc(2026, 1, 7, 10, n) for n in range(1, 6)]


def test_between_an_empty_window_finds_nothing() -> None:
    schedule = CronSchedule.parse("0 12 * * *")

    assert schedule.between(utc(2026, 1, 7, 0, 0), utc(2026, 1, 7, 11, 59), limit=10) == []


def test_count_between_counts_the_fires_in_the_window_up_to_its_limit() -> None:
    schedule = CronSchedule.parse("*/15 * * * *")
    start, end = utc(2026, 1, 7, 0, 0), utc(2026, 1, 8, 0, 0)

    assert schedule.count_between(start, end) == 96
    assert schedule.count_between(start, end, limit=10) == 10


def test_an_expression_that_can_never_fire_is_refused_on_the_schedule_field() -> None:
    with pytest.raises(InvalidValue) as refused:
        CronSchedule.parse("0 0 30 2 *")

    assert refused.value.field == "schedule"


def test_a_per_second_job_survives_a_two_hour_spring_forward_gap() -> None:
    schedule = CronSchedule.parse("* * * * * *", "Antarctica/Troll")

    fires = schedule.between(
        datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC), 10
    )

    assert fires == [utc(2026, 3, 29, 1, 0), datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC)]
