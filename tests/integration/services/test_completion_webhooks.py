"""Completion webhooks: each URL of a job gets the signed envelope of its execution's end."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg

from application.dependencies import Dependencies
from domain.execution import Execution
from domain.execution_values import ErrorInfo, JobSnapshot, Trigger, TriggerType
from domain.retry import RetryPolicy
from infrastructure.postgres.positions import Positions
from infrastructure.webhooks import Backoff, CompletionWebhooks
from tests.integration.services.conftest import bus_events
from tests.integration.services.servers import http_server
from tests.support.waiting import eventually

SECRET = "completion-secret"
FAST = Backoff(attempts=3, base=0.01, ceiling=0.02)


def running(*webhooks: str) -> Execution:
    now = datetime.now(UTC)
    job = JobSnapshot(
        uuid4(), "hooked", "svc", "jobs/x.py", 5000, RetryPolicy(0), webhooks=webhooks
    )
    execution = Execution.request(uuid4(), job, Trigger(TriggerType.MANUAL, "test"), at=now)
    execution.start_attempt(1, worker="w1", at=now)
    return execution


@contextlib.asynccontextmanager
async def following(follower: CompletionWebhooks) -> AsyncIterator[None]:
    task = asyncio.create_task(follower.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_finished_executions_are_posted_signed_retried_and_recorded(
    fresh_database_url: str, fresh_pool: asyncpg.Pool, fresh_deps: Dependencies
) -> None:
    with http_server() as web:
        web.statuses["/flaky"] = [503]  # fails once, then takes it
        web.always["/down"] = 500
        completed = running(f"{web.url}/done", f"{web.url}/down?token=abc")
        completed.complete(1, {"rows": 3}, at=datetime.now(UTC))
        failed = running(f"{web.url}/flaky")
        failed.fail_attempt(1, ErrorInfo("ValueError", "bad"), at=datetime.now(UTC), sample=0.5)
        quiet = running()
        quiet.complete(1, None, at=datetime.now(UTC))
        saved = await fresh_deps.store.save(completed, failed, quiet)

        def follower() -> CompletionWebhooks:
            return CompletionWebhooks(
                fresh_pool, fresh_database_url, fresh_deps, SECRET, backoff=FAST, poll_interval=0.1
            )

        def recorded(count: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return len(await bus_events(fresh_pool, "webhook.")) >= count

            return check

        async def delivered_and_moved_on() -> bool:
            # Recorded outcomes come before the position moves: stopping in between would
            # deliver again, which at-least-once allows but this test is not about.
            moved = await Positions(fresh_pool).get("webhooks") >= saved
            return moved and await recorded(3)()

        async with following(follower()):
            await eventually(delivered_and_moved_on, timeout=10)
        posts = len(web.received)
        late = running(f"{web.url}/late")
        late.complete(1, None, at=datetime.now(UTC))
        await fresh_deps.store.save(late)
        # A restart resumes after what it delivered: once the later execution's webhook is
        # recorded, a replay of the earlier ones would have been posted before it.
        async with following(follower()):
            await eventually(recorded(4), timeout=10)
        assert len(web.received) == posts + 1

    [done] = web.posts("/done")
    envelope = json.loads(done.body)
    assert envelope["name"] == "execution.completed"
    assert envelope["payload"]["executionId"] == str(completed.id)
    assert envelope["payload"]["result"] == {"rows": 3}
    expected = "sha256=" + hmac.new(SECRET.encode(), done.body, hashlib.sha256).hexdigest()
    assert done.headers["X-Almanac-Signature"] == expected
    assert done.headers["X-Almanac-Delivery"] == envelope["id"]
    flaky = web.posts("/flaky")
    assert [json.loads(p.body)["name"] for p in flaky] == ["execution.failed"] * 2
    assert len(web.posts("/down")) == 3

    events = await bus_events(fresh_pool, "webhook.")
    assert {e["source"] for e in events} == {"almanac"}
    outcomes = sorted(
        (e["name"], e["payload"]["url"], e["payload"]["status"], e["payload"]["attempts"])
        for e in events
    )
    assert outcomes == [
        ("webhook.delivered", f"{web.url}/done", 200, 1),
        ("webhook.delivered", f"{web.url}/flaky", 200, 2),
        ("webhook.delivered", f"{web.url}/late", 200, 1),
        ("webhook.failed", f"{web.url}/down", 500, 3),  # its token is not recorded
    ]
    assert await Positions(fresh_pool).get("webhooks") > 0


async def test_without_a_secret_nothing_is_sent_and_the_reason_is_recorded(
    fresh_database_url: str, fresh_pool: asyncpg.Pool, fresh_deps: Dependencies
) -> None:
    with http_server() as web:
        execution = running(f"{web.url}/done")
        execution.request_cancel(actor="test", at=datetime.now(UTC))
        execution.confirm_cancelled(1, at=datetime.now(UTC))
        await fresh_deps.store.save(execution)
        follower = CompletionWebhooks(
            fresh_pool, fresh_database_url, fresh_deps, None, backoff=FAST, poll_interval=0.1
        )

        async def recorded() -> bool:
            return bool(await bus_events(fresh_pool, "webhook."))

        async with following(follower):
            await eventually(recorded, timeout=10)
        assert web.received == []
    [event] = await bus_events(fresh_pool, "webhook.")
    assert event["name"] == "webhook.failed"
    assert event["payload"]["event"] == "execution.cancelled"
    assert "ALMANAC_WEBHOOK_SECRET" in event["payload"]["error"]
