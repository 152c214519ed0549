"""What the dashboard needs from the composition root: read-model queries and their sync."""

from __future__ import annotations

from typing import Protocol

from application.dependencies import Dependencies
from application.ports import ReadModelSync
from application.queries import (
    EventQueries,
    ExecutionQueries,
    JobQueries,
    ModuleQueries,
    OverviewQueries,
)


class DashboardServices(Protocol):
    """Read-only ports; commands go through the REST API from the browser.

    `deps` is only asked for the store's head, to show live fragments as of now.
    """

    @property
    def deps(self) -> Dependencies: ...

    @property
    def jobs(self) -> JobQueries: ...

    @property
    def executions(self) -> ExecutionQueries: ...

    @property
    def events(self) -> EventQueries: ...

    @property
    def modules(self) -> ModuleQueries: ...

    @property
    def overview(self) -> OverviewQueries: ...

    @property
    def sync(self) -> ReadModelSync: ...
