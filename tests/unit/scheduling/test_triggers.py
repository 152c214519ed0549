from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from application.dependencies import Dependencies
from application.scheduling.directory import JobDirectory
from application.scheduling.triggers import TriggerRouter
from domain.execution import Execution
from domain.execution_values import TriggerType, event_execution_id
from domain.job import Job
from interfaces.bootstrap.runtime import SystemClock
from tests.unit.domain.builders import definition
from tests.unit.http.fakes import Catalog, MemoryStore

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def envelope(name: str, **payload: Any) -> dict[str, Any]:
    return {"id": str(uuid4()), "name": name, "source": "t", "payload": payload}


async def listening_job(store: MemoryStore, directory: JobDirectory) -> Job:
    job = Job.create(uuid4(), definition(triggers=("user.*",)), enabled=True, actor="t", at=T0)
    await store.save(job)
    for event in store.events[job.id]:
        directory.observe(event)
    return job


def router(store: MemoryStore, directory: JobDirectory) -> TriggerRouter:
    deps = Dependencies(store, SystemClock(), Catalog(), lambda: 0.5)
    return TriggerRouter(deps, directory)


async def test_a_matching_event_requests_one_run_of_the_listening_job() -> None:
    store, directory = MemoryStore(), JobDirectory()
    job = await listening_job(store, directory)
    event = envelope("user.created")

    assert await router(store, directory).route(event) == 1
    assert await router(store, directory).route(event) == 0  # delivered again: no second run

    execution = store.current(event_execution_id(job.id, event["id"]))
    assert isinstance(execution, Execution)
    assert execution.trigger.type is TriggerType.EVENT
    assert (execution.job.job_id, execution.job.job_version) == (job.id, 1)


async def test_an_event_before_its_job_was_deleted_is_routed_as_the_log_had_it() -> None:
    store, directory = MemoryStore(), JobDirectory()
    job = await listening_job(store, directory)
    stored = await store.load(job.id, Job)
    stored.delete(actor="t", at=T0)
    await store.save(stored)  # later in the log than the event the router is at

    assert await router(store, directory).route(envelope("user.created")) == 1
