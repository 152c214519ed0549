"""Followers run under a leadership lock (triggers, dispatcher, webhooks, relay, retention)."""

from __future__ import annotations

import asyncio
import uuid

from application.errors import ServiceUnavailable
from infrastructure.postgres.leadership import run_as_leader
from tests.support.waiting import eventually


async def test_a_follower_that_fails_is_led_again_instead_of_ending_its_role(
    database_url: str,
) -> None:
    """A Postgres blip inside the work must not end the role (and every service beside it)."""
    runs = 0

    async def follower() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise ServiceUnavailable("the event store is unavailable: connection reset")
        await asyncio.Event().wait()  # the second run follows for ever

    leader = asyncio.create_task(
        run_as_leader(database_url, f"test-{uuid.uuid4()}", follower, failure_pause=0.1)
    )
    try:
        await eventually(lambda: runs == 2 or leader.done(), timeout=10, what="a second run")
        assert not leader.done(), leader.exception()
        assert runs == 2
    finally:
        leader.cancel()
        await asyncio.gather(leader, return_exceptions=True)
