"""SIGINT/SIGTERM as an asyncio event: roles stop cleanly instead of dying mid-write."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine, Sequence
from typing import Any


def stop_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, event.set)
    return event


async def run_until_stopped(stop: asyncio.Event, work: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Run `work` until `stop` is set or one piece ends; cancel the rest, raise the first error."""
    tasks = [asyncio.create_task(coroutine) for coroutine in work]
    waiter = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (*tasks, waiter):
            task.cancel()
        await asyncio.gather(*tasks, waiter, return_exceptions=True)
    for task in done:
        error = None if task is waiter or task.cancelled() else task.exception()
        if error is not None:
            raise error
