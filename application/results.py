"""What a command handler returns: the aggregate it changed and the store position reached."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome[T]:
    """`position` is 0 when the command changed nothing (an idempotent repeat)."""

    value: T
    position: int
    changed: bool = True
