"""What the dashboard needs from the composition root: read-model queries and their sync."""

from __future__ import annotations

from typing import Protocol

from application.ports import ReadModelSync
from application.queries import (
    EventQueries,
    ExecutionQueries,
    JobQueries,
    ModuleQueries,
    OverviewQueries,
)


class DashboardServices(Protocol):
    """Read-only ports; commands go through the REST API from the browser."""

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
