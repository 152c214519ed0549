"""SVG chart geometry, computed here and drawn by the `charts.html` macros."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GAP = 2.0
# Few values still draw slim bars: a chart always has room for this many.
MIN_SLOTS = 30


@dataclass(frozen=True, slots=True)
class Point:
    """One value to chart: its label (a tooltip) and tone (a CSS class)."""

    label: str
    value: float
    tone: str = "neutral"


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    tone: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    peak: float


@dataclass(frozen=True, slots=True)
class Segment:
    """A share of a stacked bar, as a fraction of its width."""

    start: float
    size: float
    label: str
    tone: str


def bar_chart(points: Sequence[Point], width: int = 600, height: int = 120) -> BarChart:
    """Vertical bars side by side, scaled to the largest value (empty when there is none)."""
    peak = max((point.value for point in points), default=0.0)
    if not points:
        return BarChart(width, height, (), peak)
    slot = width / max(len(points), MIN_SLOTS)
    bars = tuple(
        _bar(index * slot, slot, height, point, peak) for index, point in enumerate(points)
    )
    return BarChart(width, height, bars, peak)


def _bar(x: float, slot: float, height: int, point: Point, peak: float) -> Bar:
    size = 0.0 if peak <= 0 else height * point.value / peak
    # A zero keeps a hairline, so an empty minute still reads as a measured minute.
    size = max(size, 1.0)
    return Bar(
        x=round(x + GAP / 2, 2),
        y=round(height - size, 2),
        width=round(max(slot - GAP, 1.0), 2),
        height=round(size, 2),
        label=point.label,
        tone=point.tone,
    )


def stacked(points: Sequence[Point]) -> tuple[Segment, ...]:
    """Shares of a whole, left to right, skipping empty ones."""
    total = sum(point.value for point in points)
    if total <= 0:
        return ()
    segments: list[Segment] = []
    start = 0.0
    for point in points:
        if point.value <= 0:
            continue
        size = point.value / total
        segments.append(Segment(round(start, 4), round(size, 4), point.label, point.tone))
        start += size
    return tuple(segments)
