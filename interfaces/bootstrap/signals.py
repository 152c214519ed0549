"""SIGINT/SIGTERM as an asyncio event: roles stop cleanly instead of dying mid-write."""

from __future__ import annotations

import asyncio
import signal


def stop_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, event.set)
    return event
