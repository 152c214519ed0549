"""Waiting for eventual conditions without sleeping for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually[T](
    check: Callable[[], Awaitable[T]], timeout: float = 20, interval: float = 0.05
) -> T:
    """Await `check` until it returns something truthy; fail with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    value = await check()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value: {value!r})")
        await asyncio.sleep(interval)
        value = await check()
    return value
