"""Topics are stored in every event row: renaming one orphans the history already written."""

from __future__ import annotations

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic

from domain.bus_event import BusEvent
from domain.execution import Execution
from domain.job import Job
from domain.module import Module
from domain.skipped_occurrences import SkippedOccurrences

GOLDEN: dict[type[Aggregate], tuple[str, dict[str, str]]] = {
    Job: (
        "almanac.job",
        {
            "Created": "job.created",
            "Updated": "job.updated",
            "Enabled": "job.enabled",
            "Disabled": "job.disabled",
            "Deleted": "job.deleted",
        },
    ),
    Execution: (
        "almanac.execution",
        {
            "Created": "execution.requested",
            "AttemptStarted": "execution.attempt-started",
            "Completed": "execution.completed",
            "AttemptFailed": "execution.attempt-failed",
            "Failed": "execution.failed",
            "TimedOut": "execution.timed-out",
            "AttemptReleased": "execution.attempt-released",
            "CancelRequested": "execution.cancel-requested",
            "Cancelled": "execution.cancelled",
        },
    ),
    Module: (
        "almanac.module",
        {
            "Created": "module.registered",
            "Updated": "module.updated",
            "Enabled": "module.enabled",
            "Disabled": "module.disabled",
        },
    ),
    BusEvent: ("almanac.bus-event", {"Created": "event.emitted"}),
    SkippedOccurrences: (
        "almanac.skipped-occurrences",
        {"Created": "job.occurrences-skipped"},
    ),
}

AGGREGATES = [pytest.param(cls, topic, id=cls.__name__) for cls, (topic, _) in GOLDEN.items()]
EVENTS = [
    pytest.param(getattr(cls, name), topic, id=f"{cls.__name__}.{name}")
    for cls, (_, events) in GOLDEN.items()
    for name, topic in events.items()
]


def own_event_classes(cls: type[Aggregate]) -> dict[str, type]:
    """The event classes an aggregate declares (not the library's generated `Event` base)."""
    return {
        name: value
        for name, value in vars(cls).items()
        if isinstance(value, type) and issubclass(value, CanMutateAggregate) and name != "Event"
    }


@pytest.mark.parametrize(("cls", "topic"), AGGREGATES)
def test_an_aggregate_class_keeps_its_topic(cls: type[Aggregate], topic: str) -> None:
    assert vars(cls)["TOPIC"] == topic
    assert get_topic(cls) == topic
    assert resolve_topic(topic) is cls


@pytest.mark.parametrize(("event_class", "topic"), EVENTS)
def test_an_event_class_keeps_its_topic(event_class: type, topic: str) -> None:
    assert getattr(event_class, "TOPIC", None) == topic
    assert get_topic(event_class) == topic
    assert resolve_topic(topic) is event_class


@pytest.mark.parametrize("cls", GOLDEN, ids=lambda cls: cls.__name__)
def test_every_event_class_of_an_aggregate_is_pinned_here(cls: type[Aggregate]) -> None:
    assert set(own_event_classes(cls)) == set(GOLDEN[cls][1])


def test_no_two_classes_share_a_topic() -> None:
    every_topic = [
        topic for topic, events in GOLDEN.values() for topic in [topic, *events.values()]
    ]

    assert len(every_topic) == len(set(every_topic)) == 5 + 5 + 9 + 4 + 1 + 1
