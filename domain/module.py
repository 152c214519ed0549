"""The Module aggregate: a folder of handlers with a manifest; its jobs run only while enabled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

MODULE_NAMESPACE = UUID("9d7e2b14-5f0a-4c3e-8b61-2a4f6e8c1d03")


def module_id(name: str) -> UUID:
    """A module's id follows from its name, so registering it again is idempotent."""
    return uuid5(MODULE_NAMESPACE, name)


@dataclass(frozen=True, slots=True)
class ModuleManifest:
    """What a module declares: its version, job names and the JSON Schemas of its events."""

    name: str
    version: str
    path: str
    digest: str
    jobs: tuple[str, ...] = ()
    event_schemas: Mapping[str, Any] = field(default_factory=dict)


class Module(Aggregate):
    """A registered module; re-registering with a changed manifest records an update."""

    TOPIC = "almanac.module"
    manifest: ModuleManifest
    enabled: bool
    enabled_changed_at: datetime

    def __init__(self) -> None:
        """State is set by the Created (registered) event's apply()."""

    class Created(Aggregate.Created):
        TOPIC = "module.registered"
        manifest: ModuleManifest
        actor: str

        def apply(self, module: Module) -> None:
            module.manifest, module.enabled = self.manifest, True
            module.enabled_changed_at = self.timestamp

    class Updated(Aggregate.Event):
        TOPIC = "module.updated"
        manifest: ModuleManifest
        actor: str

        def apply(self, module: Module) -> None:
            module.manifest = self.manifest

    class Enabled(Aggregate.Event):
        TOPIC = "module.enabled"
        actor: str

        def apply(self, module: Module) -> None:
            module.enabled, module.enabled_changed_at = True, self.timestamp

    class Disabled(Aggregate.Event):
        TOPIC = "module.disabled"
        actor: str

        def apply(self, module: Module) -> None:
            module.enabled, module.enabled_changed_at = False, self.timestamp

    @classmethod
    def register(cls, manifest: ModuleManifest, *, actor: str, at: datetime) -> Module:
        return cls._create(
            cls.Created, id=module_id(manifest.name), manifest=manifest, actor=actor, timestamp=at
        )

    def update(self, manifest: ModuleManifest, *, actor: str, at: datetime) -> bool:
        """Records a new manifest only when its content changed."""
        if manifest == self.manifest:
            return False
        self.trigger_event(self.Updated, manifest=manifest, actor=actor, timestamp=at)
        return True

    def enable(self, *, actor: str, at: datetime) -> bool:
        if self.enabled:
            return False
        self.trigger_event(self.Enabled, actor=actor, timestamp=at)
        return True

    def disable(self, *, actor: str, at: datetime) -> bool:
        if not self.enabled:
            return False
        self.trigger_event(self.Disabled, actor=actor, timestamp=at)
        return True
