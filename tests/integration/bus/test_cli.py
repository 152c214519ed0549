"""`almanac subscribe` and `almanac subscribers list|replay`, run as real processes."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable

from application.eventbus import Event, RetryPolicy
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.subscriber_admin import RedisSubscriberAdmin
from infrastructure.redis.subscribers import DurableOptions
from interfaces.bootstrap.bus import open_bus
from interfaces.bootstrap.runtime import Runtime
from tests.integration.bus.conftest import Child, Relay
from tests.support.waiting import eventually

CLI = ("-m", "interfaces.cli")  # the almanac command, as users run it


async def subscribe(runtime: Runtime, children: list[Child], *args: str) -> Child:
    child = await Child.start(runtime.settings, *CLI, "subscribe", *args)
    children.append(child)
    await child.wait_for_line("following", stderr=True)
    return child


async def test_subscribe_prints_matching_envelopes_as_json_lines_and_stops_on_sigterm(
    runtime: Runtime, relay: Relay, children: list[Child]
) -> None:
    child = await subscribe(runtime, children, "user.*")
    async with open_bus(runtime) as bus:
        created = await bus.emit("user.created", {"userId": "1"}, "auth-service")
        await bus.emit("order.placed", {}, "shop")
        await bus.emit("user.a.b", {}, "shop")
        deleted = await bus.emit("user.deleted", {"userId": "1"}, "auth-service")

    await eventually(lambda: len(child.lines) == 2)
    envelopes = [json.loads(line) for line in child.lines]
    assert [(e["name"], e["position"], e["id"]) for e in envelopes] == [
        ("user.created", created.position, created.id),
        ("user.deleted", deleted.position, deleted.id),
    ]
    assert set(envelopes[0]) == {"id", "name", "source", "payload", "createdAt", "position"}
    assert envelopes[0]["createdAt"].endswith("Z")
    child.kill(signal.SIGTERM)
    assert await child.wait() == 0


async def test_subscribe_with_a_group_resumes_after_what_it_printed_and_ctrl_c_is_clean(
    runtime: Runtime, relay: Relay, children: list[Child], keys: RedisKeys
) -> None:
    async with open_bus(runtime) as bus:
        before = await bus.emit("user.created", {"n": 0}, "test")
        first = await bus.emit("user.created", {"n": 1}, "test")
        child = await subscribe(
            runtime, children, "user.*", "--group", "ops", "--from", str(before.position)
        )
        await eventually(lambda: len(child.lines) == 1)
        child.kill(signal.SIGINT)
        assert await child.wait() == 0
        second = await bus.emit("user.created", {"n": 2}, "test")

        child = await subscribe(runtime, children, "user.*", "--group", "ops")
        await eventually(lambda: len(child.lines) == 1)
        child.kill(signal.SIGTERM)
        assert await child.wait() == 0

    assert json.loads(children[0].lines[0])["position"] == first.position
    assert json.loads(child.lines[0])["position"] == second.position  # nothing printed twice
    [info] = await RedisSubscriberAdmin(runtime.redis, keys).subscribers("ops")
    assert (info.handled_position, info.pending, info.lag, info.active) == (
        second.position,
        0,
        0,
        False,
    )


async def test_subscribers_list_shows_parked_deliveries_and_replay_sends_them_back(
    runtime: Runtime, relay: Relay, children: list[Child]
) -> None:
    fixed = asyncio.Event()
    handled: list[int] = []

    def handle(event: Event) -> None:
        if event.payload["n"] == 1 and not fixed.is_set():
            raise ConnectionError("smtp down")
        handled.append(event.payload["n"])

    async def cli(*args: str, code: int = 0) -> list[str]:
        child = await Child.start(runtime.settings, *CLI, "subscribers", *args)
        assert await child.wait() == code, child.errors
        return child.lines + child.errors

    options = DurableOptions(retry=RetryPolicy((0.01,)), lease_ms=2000)
    async with open_bus(runtime, options) as bus:
        bus.on("mail.requested", handle, group="mailer")
        await bus.ready()
        emitted = [await bus.emit("mail.requested", {"n": n}, "app") for n in range(3)]
        await eventually(lambda: handled == [0, 2])

        listing = await eventually(lambda: _parked_listed(cli))
        assert listing[1].split()[:2] == ["mailer", "active"]
        assert f"parked {emitted[1].position}-0 mail.requested" in listing[2]
        assert "after 2 attempts: ConnectionError: smtp down" in listing[2]

        fixed.set()
        assert await cli("replay", "mailer", "--id", f"{emitted[1].position}-0") == [
            "1 parked deliveries sent back to mailer"
        ]
        await eventually(lambda: handled == [0, 2, 1])
        assert "mailer is running" in (await cli("delete", "mailer", code=1))[-1]
    assert (await cli("list"))[1].split()[1:] == [
        "stopped",
        str(emitted[2].position),
        "0",
        "0",
        "0",
    ]
    assert await cli("delete", "mailer") == ["deleted mailer"]
    assert len(await cli("list")) == 1  # the header alone


async def _parked_listed(cli: Callable[..., Awaitable[list[str]]]) -> list[str] | None:
    lines = await cli("list", "mailer")
    return lines if len(lines) == 3 else None
