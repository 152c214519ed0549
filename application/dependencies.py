"""What every command handler receives: the store, the clock and the module catalog."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from application.errors import ConcurrencyConflict
from application.ports import Clock, EventStore, ModuleCatalog, Sampler

CONFLICT_RETRIES = 8


@dataclass(frozen=True, slots=True)
class JobDefaults:
    """Defaults for jobs that do not say: JOB_DEFAULT_TIMEOUT and JOB_DEFAULT_RETRIES."""

    timeout_ms: int = 300_000
    retries: int = 3


@dataclass(frozen=True, slots=True)
class Dependencies:
    store: EventStore
    clock: Clock
    modules: ModuleCatalog
    sample: Sampler
    defaults: JobDefaults = field(default_factory=JobDefaults)


def retry_on_conflict[**P, R](handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Re-run a handler that lost a race: it reloads the aggregate and decides again.

    Safe because handlers are pure functions of (command, current state); a client's own
    stale expectation surfaces as PreconditionFailed, which is not retried.
    """

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(CONFLICT_RETRIES):
            try:
                return await handler(*args, **kwargs)
            except ConcurrencyConflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                await asyncio.sleep(0.001 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper
