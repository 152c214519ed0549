"""A whole engine (projector, scheduler, worker processes) over a database of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from application.commands import CreateJob, ExecuteJob
from application.jobs import create_job, execute_job
from domain.execution import Execution
from domain.job_definition import JobDefinition
from domain.retry import RetryPolicy
from infrastructure.settings import Settings
from interfaces.bootstrap.runtime import Runtime, open_runtime
from tests.support.databases import own_settings
from tests.support.system import System
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def engine_settings(
    servers: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with own_settings(
        servers,
        tmp_path_factory.mktemp("engine"),
        "engine",
        lease_timeout_ms=3000,
        shutdown_grace_ms=2000,
        worker_concurrency=4,
    ) as settings:
        yield settings


@pytest.fixture(scope="module")
def engine(engine_settings: Settings) -> Iterator[System]:
    """Projector and scheduler for the whole module; tests start and kill workers."""
    system = System(engine_settings)
    roles = [system.start("projector"), system.start("scheduler")]
    # Under load a scheduler may take a while: it waits for the read models before it starts.
    system.wait_for_heartbeat("scheduler_members", *roles)
    yield system
    system.close()


@pytest.fixture(scope="module")
def worker(engine: System, engine_settings: Settings) -> Iterator[System]:
    """One long-lived worker shared by the tests that do not kill workers, once it is ready."""
    role = engine.start("worker")
    engine.wait_for_heartbeat("almanac_workers", role)
    yield engine
    role.stop()


@pytest.fixture(scope="module")
async def runtime(engine_settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(engine_settings, pool_size=3, store_threads=4) as opened:
        yield opened


async def new_job(runtime: Runtime, handler: str, **changes: Any) -> UUID:
    definition = JobDefinition(
        name=f"{handler}-{uuid.uuid4().hex[:6]}",
        module_id="engine",
        handler=handler,
        timeout_ms=changes.pop("timeout_ms", 10_000),
        retry=changes.pop("retry", RetryPolicy(retries=0)),
    )
    definition = replace(definition, **changes)
    outcome = await create_job(CreateJob(definition, actor="test"), runtime.deps)
    return outcome.value.id


async def run_now(runtime: Runtime, job_id: UUID, config: dict[str, Any] | None = None) -> UUID:
    outcome = await execute_job(ExecuteJob(job_id, "test", config), runtime.deps)
    return outcome.value.id


async def execution(runtime: Runtime, execution_id: UUID) -> Execution:
    return await runtime.store.load(execution_id, Execution)


async def finished(runtime: Runtime, execution_id: UUID, timeout: float = 30) -> Execution:
    async def check() -> Execution | None:
        current = await execution(runtime, execution_id)
        return current if current.status.is_terminal else None

    return await eventually(check, timeout=timeout)


async def in_status(
    runtime: Runtime, execution_id: UUID, status: str, timeout: float = 30
) -> Execution:
    async def check() -> Execution | None:
        current = await execution(runtime, execution_id)
        return current if current.status.value == status else None

    return await eventually(check, timeout=timeout)
