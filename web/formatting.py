"""Jinja filters: times in words and as times, durations, rates and JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from application import wire
from domain.cron import PRESET_LABELS, PRESETS

_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


def in_words(moment: datetime | None, now: datetime | None = None) -> str:
    """A moment relative to now: "in 3 minutes", "2 hours ago", "just now"."""
    if moment is None:
        return ""
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if abs(seconds) < 1:
        return "just now"
    amount = _largest_unit(abs(seconds))
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def _largest_unit(seconds: float) -> str:
    for name, size in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {name}" + ("" if count == 1 else "s")
    return "1 second"


def as_time(moment: datetime | str | None) -> str:
    """A moment (or its ISO-8601 text) as a UTC time to the second: 2026-11-29 10:00:00 UTC."""
    if isinstance(moment, str):
        return _text_as_time(moment)
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _text_as_time(text: str) -> str:
    try:
        return as_time(datetime.fromisoformat(text))
    except ValueError:
        return text


def iso(moment: datetime | None) -> str:
    """A moment as ISO-8601 UTC (for `<time datetime>`)."""
    return "" if moment is None else wire.iso(moment)


def duration(milliseconds: int | float | None) -> str:
    """A duration for people: 850 ms, 4.2 s, 3 min 5 s, 2 h 4 min."""
    if milliseconds is None:
        return "—"
    ms = float(milliseconds)
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(int(ms // 1000), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def percent(ratio: float | None) -> str:
    """A ratio as a whole percentage, or a dash when there is nothing to divide."""
    return "—" if ratio is None else f"{ratio * 100:.0f}%"


def pretty_json(value: Any) -> str:
    """JSON indented for reading (never raises: unknown values become strings)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def filters() -> dict[str, Any]:
    """Every filter by the name templates use."""
    return {
        "in_words": in_words,
        "as_time": as_time,
        "iso": iso,
        "duration": duration,
        "percent": percent,
        "pretty_json": pretty_json,
        "schedule_words": schedule_words,
    }


def query_with(params: Mapping[str, Any], **changes: str | None) -> str:
    """The query string of `params` with `changes` applied (None removes a key)."""
    merged = {key: str(value) for key, value in params.items() if value not in (None, "")}
    for key, value in changes.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return "?" + urlencode(merged) if merged else "?"


def schedule_words(schedule: str | None) -> str:
    """A preset's label for a schedule that is one ("Every 5 minutes"), else ""."""
    if not schedule:
        return "Manual"
    key = preset_of(schedule)
    return PRESET_LABELS[key] if key else ""


def preset_of(schedule: str) -> str | None:
    """The preset a schedule names or spells out, if any."""
    if schedule in PRESETS:
        return schedule
    return next((key for key, expression in PRESETS.items() if expression == schedule), None)
