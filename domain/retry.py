"""Retry policy: how many retries and how long to wait before each one."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidValue

MAX_RETRIES = 25
MAX_BACKOFF_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delay before retry n is `min(max, base * 2^(n-1))`, with full jitter when enabled."""

    retries: int = 3
    base_ms: int = 1000
    max_ms: int = 300_000
    jitter: bool = True

    def problems(self) -> list[InvalidValue]:
        """Every way this policy is out of bounds (checked on commands, never on replay)."""
        found = []
        if not 0 <= self.retries <= MAX_RETRIES:
            found.append(InvalidValue("retries", f"must be between 0 and {MAX_RETRIES}"))
        if not 1 <= self.base_ms <= MAX_BACKOFF_MS:
            found.append(InvalidValue("backoff.baseMs", f"must be between 1 and {MAX_BACKOFF_MS}"))
        if not self.base_ms <= self.max_ms <= MAX_BACKOFF_MS:
            limit = f"must be between baseMs and {MAX_BACKOFF_MS}"
            found.append(InvalidValue("backoff.maxMs", limit))
        return found

    @property
    def max_attempts(self) -> int:
        return self.retries + 1

    def ceiling_ms(self, retry_number: int) -> int:
        """The un-jittered delay before retry `retry_number` (1 for the first retry)."""
        exponent = min(max(retry_number - 1, 0), 40)
        return int(min(self.max_ms, self.base_ms * 2**exponent))

    def delay_ms(self, retry_number: int, sample: float) -> int:
        """The delay before retry `retry_number`, given a uniform sample in [0, 1)."""
        ceiling = self.ceiling_ms(retry_number)
        return int(ceiling * sample) if self.jitter else ceiling
