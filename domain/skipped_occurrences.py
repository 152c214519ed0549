"""Occurrences of a job that did not run, with the reason: the answer to "why didn't it run?"."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.execution_values import occurrence_id


class SkipReason(StrEnum):
    MISFIRE = "misfire"
    OVERLAP = "overlap"
    DISABLED = "disabled"
    MODULE_DISABLED = "module-disabled"


class SkippedOccurrences(Aggregate):
    """A run of consecutive occurrences skipped for one reason.

    Its id is the occurrence id of the first skipped instant, the same id an execution for that
    instant would have: the store lets only one of them exist, so each occurrence gets exactly
    one decision however many schedulers race for it.
    """

    TOPIC = "almanac.skipped-occurrences"
    job_id: UUID
    reason: SkipReason
    first: datetime
    last: datetime
    count: int
    estimated: bool

    def __init__(self) -> None:
        """State is set by the Created (skipped) event's apply()."""

    class Created(Aggregate.Created):
        TOPIC = "job.occurrences-skipped"
        job_id: UUID
        reason: SkipReason
        first: datetime
        last: datetime
        count: int
        estimated: bool = False  # the count was extrapolated (very long ranges)

        def apply(self, skipped: SkippedOccurrences) -> None:
            skipped.job_id, skipped.reason = self.job_id, self.reason
            skipped.first, skipped.last, skipped.count = self.first, self.last, self.count
            skipped.estimated = self.estimated

    @classmethod
    def record(
        cls,
        job_id: UUID,
        reason: SkipReason,
        instants: list[datetime],
        *,
        at: datetime,
        count: int | None = None,
        estimated: bool = False,
    ) -> SkippedOccurrences:
        """`count` may exceed len(instants) when only the range's ends were enumerated."""
        if not instants:
            raise ValueError("a skip record needs at least one instant")
        return cls._create(
            cls.Created,
            id=occurrence_id(job_id, instants[0]),
            job_id=job_id,
            reason=reason,
            first=instants[0],
            last=instants[-1],
            count=count if count is not None else len(instants),
            estimated=estimated,
            timestamp=at,
        )
