"""Cron schedules: 5 fields, or 6 with seconds first; presets; IANA zones; defined DST rules.

DST rules, applied to local wall-clock fire times:
- a local time that does not exist (spring forward) fires at the first valid instant after it;
- a local time that occurs twice (fall back) fires once, at its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

from domain.errors import InvalidValue

PRESETS: dict[str, str] = {
    "every-minute": "* * * * *",
    "every-5-minutes": "*/5 * * * *",
    "every-15-minutes": "*/15 * * * *",
    "every-30-minutes": "*/30 * * * *",
    "hourly": "0 * * * *",
    "every-6-hours": "0 */6 * * *",
    "daily-midnight": "0 0 * * *",
    "daily-noon": "0 12 * * *",
    "weekly-monday-9am": "0 9 * * 1",
}
PRESET_LABELS: dict[str, str] = {
    "every-minute": "Every minute",
    "every-5-minutes": "Every 5 minutes",
    "every-15-minutes": "Every 15 minutes",
    "every-30-minutes": "Every 30 minutes",
    "hourly": "Every hour",
    "every-6-hours": "Every 6 hours",
    "daily-midnight": "Daily at midnight",
    "daily-noon": "Daily at noon",
    "weekly-monday-9am": "Weekly (Monday 9am)",
}
_NICKNAMES = {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"}
_FIELD_HELP = (
    "expected 5 fields (minute hour day-of-month month day-of-week), "
    "6 with seconds first, a preset name or an @nickname"
)
# Skipping candidates inside a repeated or missing stretch is bounded: DST shifts are at most
# two hours (Antarctica/Troll), so per-second schedules skip at most 7,200 of them.
_MAX_SKIPPED_CANDIDATES = 20_000


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    """An IANA time zone by name, e.g. `Europe/Berlin` or `UTC`."""
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        # OSError: names like "Europe" are folders of the zone database, not zones.
        raise InvalidValue(field, f"unknown IANA time zone {name[:100]!r}") from None


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    if not name or name.startswith(("/", ".")) or ".." in name:
        raise ValueError(name)
    return ZoneInfo(name)


def normalise_expression(text: str, field: str = "schedule") -> str:
    """A preset name becomes its expression; an expression is checked and returned tidied."""
    expression = " ".join(text.split())
    expression = PRESETS.get(expression, expression)
    if expression in _NICKNAMES:
        return expression
    fields = expression.split(" ")
    if len(fields) not in (5, 6):
        raise InvalidValue(field, f"invalid cron expression {text!r}: {_FIELD_HELP}")
    try:
        # Cron is evaluated on naive local wall-clock time; zones are applied after.
        start = datetime(2000, 1, 1)  # noqa: DTZ001
        # Computing a fire time also rejects dates that never occur, such as 30 February.
        croniter(expression, start, second_at_beginning=len(fields) == 6).get_next(datetime)
    except (CroniterError, ValueError, KeyError) as error:
        raise InvalidValue(field, f"invalid cron expression {text!r}: {error}") from None
    return expression


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A cron expression evaluated in an IANA time zone."""

    expression: str
    timezone: str = "UTC"

    @classmethod
    def parse(cls, text: str, timezone: str = "UTC") -> CronSchedule:
        zone(timezone)
        return cls(normalise_expression(text), timezone)

    @property
    def has_seconds(self) -> bool:
        return len(self.expression.split(" ")) == 6

    def next_after(self, instant: datetime) -> datetime:
        """The first fire instant strictly after `instant` (UTC-aware in, UTC-aware out)."""
        return next(self.iter_after(instant))

    def next_n(self, instant: datetime, count: int) -> list[datetime]:
        """The next `count` fire instants strictly after `instant`."""
        fires = self.iter_after(instant)
        return [next(fires) for _ in range(count)]

    def between(self, start: datetime, end: datetime, limit: int) -> list[datetime]:
        """Fire instants in (start, end], at most `limit` of them."""
        found: list[datetime] = []
        for fire in self.iter_after(start):
            if fire > end or len(found) >= limit:
                break
            found.append(fire)
        return found

    def latest_between(self, start: datetime, end: datetime, count: int) -> list[datetime]:
        """The last `count` fire instants in (start, end], oldest first (fewer if fewer exist).

        Looks back over growing windows, so it never enumerates a long downtime.
        """
        window = timedelta(hours=1)
        while True:
            low = max(start, end - window)
            found = self.between(low, end, limit=1_000_000)
            if len(found) >= count or low == start:
                return found[-count:] if count else []
            window *= 8

    def count_between(self, start: datetime, end: datetime, limit: int = 1_000_000) -> int:
        """How many fire instants lie in (start, end], counting at most `limit`."""
        return len(self.between(start, end, limit))

    def iter_after(self, instant: datetime) -> Iterator[datetime]:
        """Fire instants strictly after `instant`, in order, each once."""
        tz = zone(self.timezone)
        local = instant.astimezone(tz).replace(tzinfo=None)
        candidates = croniter(
            self.expression, local, ret_type=datetime, second_at_beginning=self.has_seconds
        )
        last = instant
        skipped = 0
        while True:
            wall: datetime = candidates.get_next(datetime)
            fire = _to_utc(wall, tz)
            if fire <= last:
                # A repeated (fall-back) hour or a skipped (spring-forward) hour maps several
                # wall times to instants already fired: each fires once.
                skipped += 1
                if skipped > _MAX_SKIPPED_CANDIDATES:
                    msg = f"no progress evaluating {self.expression!r} after {instant}"
                    raise RuntimeError(msg)
                continue
            skipped = 0
            last = fire
            yield fire


def _to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """Map a local wall time to UTC: the first occurrence if repeated, the gap's end if missing."""
    first = wall.replace(tzinfo=tz, fold=0)
    as_utc = first.astimezone(UTC)
    if as_utc.astimezone(tz).replace(tzinfo=None) == wall:
        return as_utc
    return _end_of_gap(wall, tz)


def _end_of_gap(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first valid instant after a wall time that falls in a spring-forward gap."""
    earlier = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    later = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    low, high = min(earlier, later), max(earlier, later)
    offset_after = high.astimezone(tz).utcoffset()
    # Binary search to the second for the transition instant.
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)
