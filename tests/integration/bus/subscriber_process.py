"""A subscriber in its own process, for the cross-process tests.

    python subscriber_process.py live PATTERN...        prints `<pattern> <json>` per event
    python subscriber_process.py durable GROUP PATTERN  RPUSHes each position to
                                                        `<prefix>:test:<group>` (its side effect)
Patterns starting with `=` subscribe with `on` (exact name), others with `on_pattern`.
Prints `ready` once subscribed; SIGTERM/SIGINT stop it cleanly (exit 0).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading

from application.eventbus import Event, RetryPolicy
from infrastructure.redis.subscribers import DurableOptions
from infrastructure.settings import Settings
from interfaces.bootstrap.bus import open_redis, open_redis_bus

OPTIONS = DurableOptions(retry=RetryPolicy((0.01,)), lease_ms=1000, batch=10)
# Handlers of different subscriptions run in threads at once; print's text and its newline
# are separate writes, so without the lock two events could land on one line.
PRINTING = threading.Lock()


def printer(pattern: str):  # type: ignore[no-untyped-def]
    def show(event: Event) -> None:  # a plain function: runs in a thread
        with PRINTING:
            print(pattern, json.dumps(event.envelope()), flush=True)

    return show


async def main(mode: str, args: list[str]) -> None:
    settings = Settings.from_env()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_redis(settings) as redis, open_redis_bus(settings, OPTIONS) as bus:
        if mode == "live":
            for pattern in args:
                if pattern.startswith("="):
                    bus.on(pattern[1:], printer(pattern))
                else:
                    bus.on_pattern(pattern, printer(pattern))
        else:
            group, pattern = args
            effects = f"{settings.redis_prefix}:test:{group}"

            async def record(event: Event) -> None:
                await redis.rpush(effects, event.position)
                await asyncio.sleep(0.002)  # widen the window between effect and ack

            bus.on_pattern(pattern, record, group=group)
        await bus.ready()
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
