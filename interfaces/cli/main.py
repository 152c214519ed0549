"""The `almanac` command: run the whole system or one role, migrate, rebuild, subscribe."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Coroutine
from typing import Any

import click
import uvloop

from interfaces.bootstrap import roles
from interfaces.bootstrap.config import ConfigurationError, load_settings
from interfaces.cli.subscribe import subscribe, subscribers


def main() -> None:
    """Console script entry point; a bad setting is one line on stderr and exit code 2."""
    try:
        cli(standalone_mode=True)
    except ConfigurationError as error:
        click.echo(f"almanac: {error}", err=True)
        sys.exit(2)


def _run(coroutine: Coroutine[Any, Any, Any]) -> None:
    """Roles run on uvloop: every role is a loop of small socket round trips (Postgres, Redis,
    HTTP), and asyncio's own loop spends several times the CPU on each."""
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is a normal way to stop a role
        asyncio.run(coroutine, loop_factory=uvloop.new_event_loop)


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO or WARNING (else ALMANAC_LOG_LEVEL).")
@click.pass_context
def cli(context: click.Context, log_level: str | None) -> None:
    """Almanac: event-sourced job scheduling."""
    settings = load_settings()
    level = (log_level or settings.log_level).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    context.obj = settings


@cli.command()
@click.pass_obj
def up(settings: Any) -> None:
    """Run everything: embedded servers if needed, migrations, API, projector, scheduler, worker."""
    sys.exit(roles.run_all(settings))


@cli.command()
@click.pass_obj
def api(settings: Any) -> None:
    """Serve the REST API and the dashboard."""
    _run(roles.run_api(settings))


@cli.command()
@click.pass_obj
def worker(settings: Any) -> None:
    """Run job handlers (JOB_WORKER_CONCURRENCY at once)."""
    _run(roles.run_worker(settings))


@cli.command()
@click.pass_obj
def scheduler(settings: Any) -> None:
    """Fire cron occurrences and retries, and dispatch requested executions."""
    _run(roles.run_scheduler(settings))


@cli.command()
@click.pass_obj
def projector(settings: Any) -> None:
    """Keep the read models and the Redis stream up to date with the event store."""
    _run(roles.run_projector(settings))


@cli.command()
@click.pass_obj
def migrate(settings: Any) -> None:
    """Create or upgrade the database schema."""
    _run(roles.run_migrate(settings))


@cli.group()
def projections() -> None:
    """Manage read models."""


@projections.command("rebuild")
@click.argument("name", required=False)
@click.pass_obj
def rebuild(settings: Any, name: str | None) -> None:
    """Rebuild one read model (or all) from the event log, then swap it in."""
    _run(roles.run_rebuild(settings, name))


cli.add_command(subscribe)  # almanac subscribe PATTERN [--group NAME] [--from POSITION]
cli.add_command(subscribers)  # almanac subscribers list [NAME] | replay NAME | delete NAME
