"""`almanac subscribe` and `almanac subscribers list|replay`: the event bus for operators.

`subscribe` prints matching envelopes as JSON lines, flushed one by one, for shell pipelines:
without --group it follows from now (or after --from); with --group it is a durable subscriber
that resumes where it left off and acknowledges each event after printing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Coroutine
from typing import Any

import click

from application.eventbus import SubscriberInfo, SubscriberRunning, validate_subscriber_name
from domain.errors import InvalidValue
from domain.patterns import validate_pattern
from interfaces.bootstrap.bus import (
    delete_subscriber,
    list_subscribers,
    replay_parked,
    run_subscribe,
)


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop
        return asyncio.run(coroutine)


def _checked_name(name: str, field: str) -> str:
    try:
        return validate_subscriber_name(name, field)
    except InvalidValue as error:
        raise click.BadParameter(error.message, param_hint=field) from None


@click.command()
@click.argument("pattern")
@click.option(
    "--group",
    default=None,
    help="Durable subscriber NAME: acks after printing, resumes where it left off; a new one "
    "starts at the oldest event the stream keeps (or after --from).",
)
@click.option(
    "--from",
    "after",
    type=click.IntRange(min=0),
    default=None,
    help="Start after this store position (the last one you saw); a new --group starts there.",
)
@click.pass_obj
def subscribe(settings: Any, pattern: str, group: str | None, after: int | None) -> None:
    """Print events matching PATTERN as JSON lines (`*` one segment, `**` any number)."""
    try:
        validate_pattern(pattern)
    except InvalidValue as error:
        raise click.BadParameter(error.message, param_hint="PATTERN") from None
    if group is not None:
        _checked_name(group, "--group")
    with contextlib.suppress(BrokenPipeError):
        _run(run_subscribe(settings, pattern, group, after))
    # The reader may be gone (`| head`): point stdout at /dev/null so the final flush is quiet.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


@click.group()
def subscribers() -> None:
    """Durable subscribers: position, lag, pending and parked deliveries; replay."""


@subscribers.command("list")
@click.argument("name", required=False)
@click.pass_obj
def list_command(settings: Any, name: str | None) -> None:
    """Every durable subscriber (or NAME, with its parked deliveries)."""
    infos: list[SubscriberInfo] = _run(list_subscribers(settings, name)) or []
    if name is not None and not infos:
        raise click.ClickException(f"no subscriber named {name!r}")
    click.echo(f"{'NAME':<24} {'STATE':<8} {'POSITION':>9} {'LAG':>7} {'PENDING':>7} {'PARKED':>6}")
    for info in infos:
        state = "active" if info.active else "stopped"
        click.echo(
            f"{info.name:<24} {state:<8} {info.handled_position:>9} {info.lag:>7}"
            f" {info.pending + info.replaying:>7} {info.parked:>6}"
        )
        for parked in info.parked_deliveries:
            event = parked.envelope
            click.echo(
                f"  parked {parked.entry_id} {event.get('name')} at {parked.parked_at}"
                f" after {parked.attempts} attempts: {parked.error}"
            )


@subscribers.command("replay")
@click.argument("name")
@click.option("--id", "entry_ids", multiple=True, help="A parked entry id (repeatable).")
@click.option("--all", "replay_all", is_flag=True, help="Every parked delivery of NAME.")
@click.pass_obj
def replay_command(settings: Any, name: str, entry_ids: tuple[str, ...], replay_all: bool) -> None:
    """Send parked deliveries back to subscriber NAME; it runs them before new events."""
    _checked_name(name, "NAME")
    if replay_all == bool(entry_ids):
        raise click.UsageError("give either --id ENTRY (one or more) or --all")
    moved = _run(replay_parked(settings, name, None if replay_all else entry_ids)) or 0
    click.echo(f"{moved} parked deliveries sent back to {name}")
    if entry_ids and moved < len(entry_ids):
        click.echo(f"{len(entry_ids) - moved} of the given ids were not parked", err=True)


@subscribers.command("delete")
@click.argument("name")
@click.option("--force", is_flag=True, help="Even while it runs (it then starts over).")
@click.pass_obj
def delete_command(settings: Any, name: str, force: bool) -> None:
    """Forget subscriber NAME: its group, position, parked deliveries and replays."""
    _checked_name(name, "NAME")
    try:
        deleted = _run(delete_subscriber(settings, name, force=force))
    except SubscriberRunning:
        raise click.ClickException(f"{name} is running: stop it first, or use --force") from None
    click.echo(f"deleted {name}" if deleted else f"no subscriber named {name}")
