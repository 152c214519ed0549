from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from domain.errors import InvalidTransition
from domain.job import Job, module_job_id, new_job_id
from domain.retry import RetryPolicy
from tests.unit.domain.builders import JOB_ID, T0, at, definition, recorded_topics, topics_of


def make_job(*, enabled: bool = True) -> Job:
    return Job.create(JOB_ID, definition(), enabled=enabled, actor="alice", at=T0)


def settled(job: Job) -> Job:
    job.collect_events()
    return job


def test_a_created_job_holds_its_definition_and_is_enabled() -> None:
    job = make_job()

    assert job.id == JOB_ID
    assert job.definition == definition()
    assert job.enabled
    assert not job.deleted
    assert job.state == "enabled"
    assert job.enabled_changed_at == T0
    events = job.collect_events()
    assert topics_of(events) == ["job.created"]
    assert isinstance(events[0], Job.Created)
    assert events[0].actor == "alice"


def test_a_job_can_be_created_disabled() -> None:
    job = make_job(enabled=False)

    assert not job.enabled
    assert job.state == "disabled"


def test_updating_a_job_replaces_its_definition_and_lists_the_changed_fields() -> None:
    job = settled(make_job())
    new = definition(description="Mails it to finance too", timeout_ms=60_000)

    assert job.update(new, actor="bob", at=at(1)) is True

    assert job.definition == new
    events = job.collect_events()
    assert topics_of(events) == ["job.updated"]
    assert isinstance(events[0], Job.Updated)
    assert events[0].changed == ("description", "timeout_ms")
    assert events[0].definition == new
    assert events[0].actor == "bob"


@pytest.mark.parametrize(
    ("changes", "changed"),
    [
        ({"schedule": None}, ("schedule",)),
        ({"retry": RetryPolicy(retries=5)}, ("retry",)),
        ({"config": {"to": "ops"}}, ("config",)),
        ({"name": "weekly-report", "handler": "jobs/weekly.py"}, ("name", "handler")),
        (
            {"triggers": ("billing.*",), "webhooks": ("https://h.example/x",)},
            ("triggers", "webhooks"),
        ),
    ],
)
def test_an_update_names_exactly_the_fields_that_changed(
    changes: dict[str, Any], changed: tuple[str, ...]
) -> None:
    job = settled(make_job())

    job.update(definition(**changes), actor="bob", at=at(1))

    (event,) = job.collect_events()
    assert isinstance(event, Job.Updated)
    assert event.changed == changed


def test_an_update_with_an_identical_definition_records_nothing() -> None:
    job = settled(make_job())

    assert job.update(definition(), actor="bob", at=at(1)) is False

    assert job.collect_events() == []
    assert job.version == 1


def test_disabling_an_enabled_job_records_it() -> None:
    job = settled(make_job())

    assert job.disable(actor="bob", at=at(5)) is True

    assert not job.enabled
    assert job.state == "disabled"
    assert job.enabled_changed_at == at(5)
    assert recorded_topics(job) == ["job.disabled"]


def test_enabling_a_disabled_job_records_it() -> None:
    job = settled(make_job(enabled=False))

    assert job.enable(actor="bob", at=at(5)) is True

    assert job.enabled
    assert job.state == "enabled"
    assert job.enabled_changed_at == at(5)
    assert recorded_topics(job) == ["job.enabled"]


def test_enabling_an_enabled_job_returns_false_and_records_nothing() -> None:
    job = settled(make_job(enabled=True))

    assert job.enable(actor="bob", at=at(5)) is False

    assert job.enabled
    assert job.enabled_changed_at == T0
    assert job.collect_events() == []


def test_disabling_a_disabled_job_returns_false_and_records_nothing() -> None:
    job = settled(make_job(enabled=False))

    assert job.disable(actor="bob", at=at(5)) is False

    assert not job.enabled
    assert job.enabled_changed_at == T0
    assert job.collect_events() == []


@pytest.mark.parametrize("enabled", [True, False])
def test_deleting_a_job_marks_it_deleted(enabled: bool) -> None:
    job = settled(make_job(enabled=enabled))

    job.delete(actor="bob", at=at(9))

    assert job.deleted
    assert job.state == "deleted"
    assert job.definition == definition()
    assert recorded_topics(job) == ["job.deleted"]


DELETED_JOB_COMMANDS: dict[str, Callable[[Job], Any]] = {
    "update": lambda job: job.update(definition(description="x"), actor="bob", at=at(10)),
    "enable": lambda job: job.enable(actor="bob", at=at(10)),
    "disable": lambda job: job.disable(actor="bob", at=at(10)),
    "delete": lambda job: job.delete(actor="bob", at=at(10)),
    "run": lambda job: job.check_can_run(),
}


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("action", DELETED_JOB_COMMANDS)
def test_a_deleted_job_refuses_every_command(action: str, enabled: bool) -> None:
    job = make_job(enabled=enabled)
    job.delete(actor="bob", at=at(9))
    settled(job)

    with pytest.raises(InvalidTransition) as refused:
        DELETED_JOB_COMMANDS[action](job)

    assert str(refused.value) == (
        f"cannot {action} job in state deleted: a deleted job accepts no commands"
    )
    assert (refused.value.action, refused.value.state) == (action, "deleted")
    assert job.collect_events() == []
    assert job.deleted
    assert job.enabled is enabled
    assert job.definition == definition()


@pytest.mark.parametrize("enabled", [True, False])
def test_a_job_that_exists_may_be_run_even_when_disabled(enabled: bool) -> None:
    job = settled(make_job(enabled=enabled))

    job.check_can_run()

    assert job.collect_events() == []


def test_replaying_a_jobs_events_rebuilds_the_same_job() -> None:
    job = make_job()
    job.update(definition(timeout_ms=60_000), actor="bob", at=at(1))
    job.disable(actor="bob", at=at(2))
    job.enable(actor="bob", at=at(3))
    job.delete(actor="bob", at=at(4))

    copy: Any = None
    for event in job.collect_events():
        copy = event.mutate(copy)

    assert isinstance(copy, Job)
    assert copy.version == job.version == 5
    assert (copy.definition, copy.enabled, copy.deleted, copy.enabled_changed_at) == (
        job.definition,
        job.enabled,
        job.deleted,
        job.enabled_changed_at,
    )


def test_a_module_job_id_is_the_same_on_every_call() -> None:
    first = module_job_id("reports", "nightly")

    assert module_job_id("reports", "nightly") == first
    assert first.version == 5


def test_a_module_job_id_is_pinned_so_a_restart_finds_the_jobs_it_synced_before() -> None:
    assert module_job_id("reports", "nightly") == UUID("fee82db2-d04c-5750-8ad2-60974eb12e35")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("reports", "nightly"), ("reports", "weekly")),
        (("reports", "nightly"), ("billing", "nightly")),
        (("ab", "c"), ("a", "bc")),
        (("reports", "nightly"), ("nightly", "reports")),
    ],
)
def test_different_module_jobs_get_different_ids(
    one: tuple[str, str], other: tuple[str, str]
) -> None:
    assert module_job_id(*one) != module_job_id(*other)


def test_jobs_created_through_the_api_get_random_ids() -> None:
    ids = {new_job_id() for _ in range(10)}

    assert len(ids) == 10
    assert all(job_id.version == 4 for job_id in ids)
