"""The Job aggregate: a job's definition and whether it may run. Deleted jobs accept nothing."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidTransition
from domain.job_definition import JobDefinition

JOB_NAMESPACE = UUID("6f1c2a8e-1d1b-4c55-9a39-0c7d3a7f0a01")


def module_job_id(module_name: str, job_name: str) -> UUID:
    """Jobs declared in a manifest get the same id on every start-up."""
    return uuid5(JOB_NAMESPACE, f"{module_name}\x00{job_name}")


def new_job_id() -> UUID:
    """Jobs created through the API get a random id."""
    return uuid4()


class Job(Aggregate):
    """A job: created, updated with a whole new definition, enabled, disabled, deleted."""

    TOPIC = "almanac.job"
    definition: JobDefinition
    enabled: bool
    deleted: bool
    enabled_changed_at: datetime

    def __init__(self) -> None:
        """State is set by the Created event's apply(); annotations above are for type checkers."""

    class Created(Aggregate.Created):
        TOPIC = "job.created"
        definition: JobDefinition
        enabled: bool
        actor: str

        def apply(self, job: Job) -> None:
            job.definition = self.definition
            job.enabled = self.enabled
            job.deleted = False
            job.enabled_changed_at = self.timestamp

    class Updated(Aggregate.Event):
        TOPIC = "job.updated"
        definition: JobDefinition
        changed: tuple[str, ...]
        actor: str

        def apply(self, job: Job) -> None:
            job.definition = self.definition

    class Enabled(Aggregate.Event):
        TOPIC = "job.enabled"
        actor: str

        def apply(self, job: Job) -> None:
            job.enabled = True
            job.enabled_changed_at = self.timestamp

    class Disabled(Aggregate.Event):
        TOPIC = "job.disabled"
        actor: str

        def apply(self, job: Job) -> None:
            job.enabled = False
            job.enabled_changed_at = self.timestamp

    class Deleted(Aggregate.Event):
        TOPIC = "job.deleted"
        actor: str

        def apply(self, job: Job) -> None:
            job.deleted = True

    @classmethod
    def create(
        cls, job_id: UUID, definition: JobDefinition, *, enabled: bool, actor: str, at: datetime
    ) -> Job:
        return cls._create(
            cls.Created,
            id=job_id,
            definition=definition,
            enabled=enabled,
            actor=actor,
            timestamp=at,
        )

    @property
    def state(self) -> str:
        if self.deleted:
            return "deleted"
        return "enabled" if self.enabled else "disabled"

    def update(self, definition: JobDefinition, *, actor: str, at: datetime) -> bool:
        """Replace the definition; returns False (and records nothing) when nothing changed."""
        self._refuse_if_deleted("update")
        changed = _changed_fields(self.definition, definition)
        if not changed:
            return False
        self.trigger_event(
            self.Updated, definition=definition, changed=changed, actor=actor, timestamp=at
        )
        return True

    def enable(self, *, actor: str, at: datetime) -> bool:
        """Enabling an enabled job changes nothing."""
        self._refuse_if_deleted("enable")
        if self.enabled:
            return False
        self.trigger_event(self.Enabled, actor=actor, timestamp=at)
        return True

    def disable(self, *, actor: str, at: datetime) -> bool:
        """Disabling a disabled job changes nothing."""
        self._refuse_if_deleted("disable")
        if not self.enabled:
            return False
        self.trigger_event(self.Disabled, actor=actor, timestamp=at)
        return True

    def check_can_run(self) -> None:
        """Only jobs that exist may be run; a disabled job may still be run by hand."""
        self._refuse_if_deleted("run")

    def delete(self, *, actor: str, at: datetime) -> None:
        self._refuse_if_deleted("delete")
        self.trigger_event(self.Deleted, actor=actor, timestamp=at)

    def _refuse_if_deleted(self, action: str) -> None:
        if self.deleted:
            raise InvalidTransition("job", action, "deleted", "a deleted job accepts no commands")


def _changed_fields(old: JobDefinition, new: JobDefinition) -> tuple[str, ...]:
    return tuple(
        name for name in old.__dataclass_fields__ if getattr(old, name) != getattr(new, name)
    )
