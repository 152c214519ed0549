from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.bus_event import BusEvent, validate_source
from domain.errors import InvalidValue
from domain.execution import Execution
from domain.execution_values import (
    Trigger,
    TriggerType,
    event_execution_id,
    occurrence_id,
)
from domain.module import Module, ModuleManifest, module_id
from domain.skipped_occurrences import SkippedOccurrences, SkipReason
from tests.unit.domain.builders import JOB_ID, T0, at, recorded_topics, snapshot

MANIFEST = ModuleManifest(
    name="reports",
    version="1.2.0",
    path="/srv/modules/reports",
    digest="sha256:abc",
    jobs=("nightly", "weekly"),
    event_schemas={"reports.sent": {"type": "object"}},
)


# Modules.


def test_a_registered_module_is_enabled_and_gets_the_id_of_its_name() -> None:
    module = Module.register(MANIFEST, actor="startup", at=T0)

    assert module.id == module_id("reports")
    assert module.manifest == MANIFEST
    assert module.enabled
    assert module.enabled_changed_at == T0
    assert recorded_topics(module) == ["module.registered"]


def test_a_module_id_is_deterministic_and_pinned() -> None:
    assert module_id("reports") == module_id("reports")
    assert module_id("reports") != module_id("billing")
    assert module_id("reports") == UUID("958b4824-d015-511b-9533-bd7c3275ee15")


def test_re_registering_the_same_manifest_records_nothing() -> None:
    module = Module.register(MANIFEST, actor="startup", at=T0)
    module.collect_events()

    assert module.update(replace(MANIFEST), actor="startup", at=at(60)) is False

    assert module.collect_events() == []


def test_a_changed_manifest_records_an_update() -> None:
    module = Module.register(MANIFEST, actor="startup", at=T0)
    module.collect_events()
    changed = replace(MANIFEST, version="1.3.0", digest="sha256:def")

    assert module.update(changed, actor="startup", at=at(60)) is True

    assert module.manifest == changed
    assert recorded_topics(module) == ["module.updated"]


def test_disabling_and_enabling_a_module_is_recorded_once_each() -> None:
    module = Module.register(MANIFEST, actor="startup", at=T0)
    module.collect_events()

    assert module.enable(actor="alice", at=at(1)) is False
    assert module.disable(actor="alice", at=at(2)) is True
    assert not module.enabled
    assert module.enabled_changed_at == at(2)
    assert module.disable(actor="alice", at=at(3)) is False
    assert module.enable(actor="alice", at=at(4)) is True
    assert module.enabled
    assert module.enabled_changed_at == at(4)
    assert recorded_topics(module) == ["module.disabled", "module.enabled"]


# Bus events.


def test_an_emitted_event_keeps_its_name_source_payload_and_time() -> None:
    event_id = UUID("5e8c4a9f-0d2b-4b6e-9a3f-7c1d2e3f4a5b")

    event = BusEvent.emit(
        "billing.invoice-paid", {"amount": 12}, source="billing", at=T0, event_id=event_id
    )

    assert event.id == event_id
    assert (event.name, event.source, event.payload) == (
        "billing.invoice-paid",
        "billing",
        {"amount": 12},
    )
    assert event.created_on == T0
    assert recorded_topics(event) == ["event.emitted"]


def test_an_emitted_event_without_an_id_gets_a_fresh_one() -> None:
    first = BusEvent.emit("deploy.done", {}, source="ci", at=T0)
    second = BusEvent.emit("deploy.done", {}, source="ci", at=T0)

    assert first.id != second.id
    assert first.id.version == 4


@pytest.mark.parametrize("name", ["", "deploy..done", "deploy.*", "deploy done", "x" * 201])
def test_emitting_an_event_with_a_bad_name_is_refused_on_the_name_field(name: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        BusEvent.emit(name, {}, source="ci", at=T0)

    assert refused.value.field == "name"


@pytest.mark.parametrize("source", ["", "s" * 201, "ci\nforged: yes", "tab\there"])
def test_emitting_an_event_with_a_bad_source_is_refused_on_the_source_field(source: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        BusEvent.emit("deploy.done", {}, source=source, at=T0)

    assert refused.value.field == "source"
    assert refused.value.message == "must be 1 to 200 printable characters"


@pytest.mark.parametrize("source", ["ci", "s" * 200, "my module (v2)", "zürich-büro"])
def test_a_printable_source_of_up_to_200_characters_is_accepted(source: str) -> None:
    assert validate_source(source) == source


# Skipped occurrences and occurrence ids.


def test_skipped_occurrences_get_the_id_an_execution_for_the_first_instant_would_have() -> None:
    first = T0 + timedelta(minutes=5)
    instants = [first, first + timedelta(minutes=5), first + timedelta(minutes=10)]

    skipped = SkippedOccurrences.record(JOB_ID, SkipReason.OVERLAP, instants, at=at(900))

    trigger = Trigger(TriggerType.SCHEDULE, actor="scheduler", scheduled_for=first)
    execution = Execution.request(occurrence_id(JOB_ID, first), snapshot(), trigger, at=first)
    assert skipped.id == occurrence_id(JOB_ID, first) == execution.id
    assert (skipped.job_id, skipped.reason) == (JOB_ID, SkipReason.OVERLAP)
    assert (skipped.first, skipped.last, skipped.count) == (instants[0], instants[-1], 3)
    assert recorded_topics(skipped) == ["job.occurrences-skipped"]


def test_a_skip_record_can_count_more_occurrences_than_it_lists() -> None:
    ends = [T0, T0 + timedelta(hours=10)]

    skipped = SkippedOccurrences.record(JOB_ID, SkipReason.MISFIRE, ends, at=at(36_000), count=601)

    assert (skipped.first, skipped.last, skipped.count) == (ends[0], ends[1], 601)


def test_a_single_skipped_occurrence_is_first_and_last() -> None:
    skipped = SkippedOccurrences.record(JOB_ID, SkipReason.DISABLED, [T0], at=at(1))

    assert (skipped.first, skipped.last, skipped.count) == (T0, T0, 1)


def test_an_occurrence_id_is_deterministic_and_pinned() -> None:
    assert occurrence_id(JOB_ID, T0) == occurrence_id(JOB_ID, T0)
    assert occurrence_id(JOB_ID, T0) == UUID("709d0f55-7cef-5b2f-b5d6-60895ee72bf1")


@pytest.mark.parametrize(
    ("job_id", "instant"),
    [
        (JOB_ID, T0 + timedelta(minutes=1)),
        (JOB_ID, T0 + timedelta(microseconds=1)),
        (UUID("00000000-0000-4000-8000-000000000001"), T0),
    ],
)
def test_a_different_job_or_instant_gets_a_different_occurrence_id(
    job_id: UUID, instant: Any
) -> None:
    assert occurrence_id(job_id, instant) != occurrence_id(JOB_ID, T0)


def test_an_event_triggered_execution_id_depends_on_the_job_and_the_event() -> None:
    one = event_execution_id(JOB_ID, "evt-1")

    assert event_execution_id(JOB_ID, "evt-1") == one
    assert one == UUID("67fdc5e1-2f1c-5543-ba7f-ec690dc71309")
    assert event_execution_id(JOB_ID, "evt-2") != one
    assert event_execution_id(UUID(int=1), "evt-1") != one
