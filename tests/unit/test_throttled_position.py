"""A follower's position is written at most every interval, and the latest one always."""

from __future__ import annotations

from typing import Any, cast

from infrastructure.postgres.positions import Positions, ThrottledPosition
from tests.support.waiting import eventually


class RecordedPositions:
    """Stands in for the positions table: remembers every write."""

    def __init__(self) -> None:
        self.writes: list[int] = []

    async def get(self, name: str) -> int:
        return self.writes[-1] if self.writes else 0

    async def advance(self, name: str, position: int) -> None:
        self.writes.append(position)


def throttled(table: RecordedPositions, interval: float) -> ThrottledPosition:
    return ThrottledPosition(cast(Positions, cast(Any, table)), "relay", interval=interval)


async def test_a_burst_writes_its_first_and_its_last_position_only() -> None:
    table = RecordedPositions()
    position = throttled(table, interval=0.2)

    for batch_end in range(1, 51):
        await position.advance(batch_end)

    assert table.writes == [1]  # the rest wait for the interval
    await eventually(lambda: table.writes[-1] == 50, timeout=5, what="the burst's last position")
    assert table.writes == [1, 50]


async def test_batches_an_interval_apart_are_each_written() -> None:
    table = RecordedPositions()
    position = throttled(table, interval=0.0)

    for batch_end in (3, 7, 9):
        await position.advance(batch_end)

    assert table.writes == [3, 7, 9]
