"""Every projection, by name; the names are also their rows in almanac_positions."""

from __future__ import annotations

from infrastructure.readmodels.events_projection import EventsProjection
from infrastructure.readmodels.executions_projection import ExecutionsProjection
from infrastructure.readmodels.jobs_projection import JobsProjection
from infrastructure.readmodels.modules_projection import ModulesProjection
from infrastructure.readmodels.projection import Projection
from infrastructure.readmodels.skips_projection import SkipsProjection

PROJECTIONS: tuple[type[Projection], ...] = (
    JobsProjection,
    ExecutionsProjection,
    EventsProjection,
    SkipsProjection,
    ModulesProjection,
)
PROJECTION_NAMES: tuple[str, ...] = tuple(kind.name for kind in PROJECTIONS)


def projections_named(name: str | None) -> tuple[type[Projection], ...]:
    """All projections for None, else the one called `name` (ValueError naming the choices)."""
    if name is None:
        return PROJECTIONS
    for kind in PROJECTIONS:
        if kind.name == name:
            return (kind,)
    raise ValueError(f"no projection {name!r}; choose one of {', '.join(PROJECTION_NAMES)}")
