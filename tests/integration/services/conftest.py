"""Fixtures for the shared-services tests: store, pool, and handlers run in real slots."""

from __future__ import annotations

import random
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import msgspec
import pytest

from application.bus import emit_event
from application.commands import EmitEvent
from application.dependencies import Dependencies
from application.worker import HandlerResult, RunRequest, StopSignal
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.modules.catalog import FilesystemModuleCatalog
from infrastructure.worker.protocol import Log
from infrastructure.worker.slots import SlotPool
from interfaces.bootstrap.runtime import SystemClock
from tests.support.system import REPO

SLOT_COMMAND = (sys.executable, "-m", "interfaces.bootstrap.slot")
MODULES = Path(__file__).parent / "modules"
EXAMPLES = REPO / "ops" / "examples" / "modules"


@pytest.fixture
def deps(store: EventsourcingStore) -> Dependencies:
    return _deps(store)


@pytest.fixture
def fresh_deps(fresh_store: EventsourcingStore) -> Dependencies:
    return _deps(fresh_store)


def _deps(store: EventsourcingStore) -> Dependencies:
    return Dependencies(store, SystemClock(), FilesystemModuleCatalog(()), random.random)


@pytest.fixture(autouse=True)
def slot_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slots inherit this process's environment: the repo importable, no stray settings."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    for name in ("SMTP_HOST", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "ALMANAC_CHROMIUM"):
        monkeypatch.delenv(name, raising=False)


class Locator:
    """Every module id maps to one folder (tests use fresh module ids for fresh roles)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()

    def module_folder(self, module_id: str) -> Path:
        return self.folder

    def handler_file(self, module_id: str, handler: str) -> Path:
        return self.folder / handler


Emitter = Callable[[str, dict[str, Any], str], Any]


@dataclass
class Slots:
    pool: SlotPool
    logs: list[Log] = field(default_factory=list)

    async def run(
        self,
        handler: str,
        config: Mapping[str, Any] | None = None,
        *,
        module_id: str = "svc",
        timeout_ms: int = 30_000,
        stop: StopSignal | None = None,
    ) -> HandlerResult:
        request = RunRequest(
            uuid4(), 1, uuid4(), "test", module_id, handler, dict(config or {}), timeout_ms
        )
        return await self.pool.run(request, stop or StopSignal())

    def logged(self, message: str) -> list[dict[str, Any]]:
        return [line.fields for line in self.logs if line.message == message]


@asynccontextmanager
async def slots(
    folder: Path,
    *,
    deps: Dependencies | None = None,
    database_url_for: Callable[[str], Awaitable[str | None]] | None = None,
) -> AsyncIterator[Slots]:
    """One real slot process running handlers from `folder`; events go to the store if given."""

    async def emitter(name: str, payload: dict[str, Any], source: str) -> str:
        if deps is None:
            return str(uuid4())
        outcome = await emit_event(EmitEvent(name, payload, source), deps)
        return str(outcome.value.id)

    logs: list[Log] = []
    pool = SlotPool(
        size=1,
        command=SLOT_COMMAND,
        locator=Locator(folder),
        log_sink=lambda _request, line: logs.append(line),
        emitter=emitter,
        database_url_for=database_url_for or _no_database,
    )
    await pool.start()
    try:
        yield Slots(pool, logs)
    finally:
        await pool.close()


async def bus_events(pool: asyncpg.Pool, name_prefix: str) -> list[dict[str, Any]]:
    """Stored bus events whose name starts with the prefix, oldest first, as {name, source,
    payload}."""
    rows = await pool.fetch(
        "SELECT state FROM almanac_events WHERE topic = 'event.emitted' ORDER BY notification_id"
    )
    events = [msgspec.json.decode(bytes(row["state"])) for row in rows]
    return [
        {"name": e["name"], "source": e["source"], "payload": e["payload"]}
        for e in events
        if e["name"].startswith(name_prefix)
    ]


async def _no_database(_module: str) -> str | None:
    return None
