"""Job bodies. Requests forbid unknown fields; limits are checked by the domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from domain.job_definition import CatchUp, OverlapPolicy

Name = Annotated[str, msgspec.Meta(description="1 to 200 characters")]
Cron = Annotated[str | None, msgspec.Meta(description="cron (5 or 6 fields) or a preset")]
TimeoutMs = Annotated[int, msgspec.Meta(description="milliseconds, 1000 to 86400000")]
Retries = Annotated[int, msgspec.Meta(description="0 to 25 retries after the first attempt")]
Config = Annotated[dict[str, Any], msgspec.Meta(description="a JSON object, up to 64 KiB")]


class BackoffInput(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    base_ms: int | UnsetType = UNSET
    max_ms: int | UnsetType = UNSET
    jitter: bool | UnsetType = UNSET


class MisfireInput(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    grace_ms: int | UnsetType = UNSET
    catch_up: CatchUp | UnsetType = UNSET
    limit: int | UnsetType = UNSET


class JobCreateRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """A new job; `timeout` and `retries` default to JOB_DEFAULT_TIMEOUT/JOB_DEFAULT_RETRIES."""

    name: Name
    module_id: str
    handler: str
    description: str = ""
    schedule: Cron = None
    timezone: str = "UTC"
    enabled: bool = True
    timeout: TimeoutMs | None = None
    retries: Retries | None = None
    backoff: BackoffInput | UnsetType = UNSET
    config: Config = msgspec.field(default_factory=dict)
    overlap: OverlapPolicy = OverlapPolicy.ALLOW
    misfire: MisfireInput | UnsetType = UNSET
    triggers: list[str] = msgspec.field(default_factory=list)
    webhooks: list[str] = msgspec.field(default_factory=list)


class JobUpdateRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Fields present change; absent fields stay as they are."""

    name: Name | UnsetType = UNSET
    module_id: str | UnsetType = UNSET
    handler: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    schedule: Cron | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    timeout: TimeoutMs | UnsetType = UNSET
    retries: Retries | UnsetType = UNSET
    backoff: BackoffInput | UnsetType = UNSET
    config: Config | UnsetType = UNSET
    overlap: OverlapPolicy | UnsetType = UNSET
    misfire: MisfireInput | UnsetType = UNSET
    triggers: list[str] | UnsetType = UNSET
    webhooks: list[str] | UnsetType = UNSET


class ExecuteRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Optional body of POST /jobs/{id}/execute: config merged over the job's for this run."""

    config: Config | None = None


class BackoffResponse(msgspec.Struct, rename="camel"):
    base_ms: int
    max_ms: int
    jitter: bool


class MisfireResponse(msgspec.Struct, rename="camel"):
    grace_ms: int
    catch_up: str
    limit: int


class ExecutionSummaryResponse(msgspec.Struct, rename="camel"):
    id: UUID
    status: str
    created_at: datetime
    finished_at: datetime | None
    duration_ms: int | None


class RunCountsResponse(msgspec.Struct, rename="camel"):
    total: int = 0
    completed: int = 0
    failed: int = 0
    timeout: int = 0
    cancelled: int = 0


class JobResponse(msgspec.Struct, rename="camel"):
    id: UUID
    name: str
    description: str
    module_id: str
    handler: str
    schedule: str | None
    timezone: str
    enabled: bool
    timeout: int
    retries: int
    backoff: BackoffResponse
    config: dict[str, Any]
    overlap: str
    misfire: MisfireResponse
    triggers: list[str]
    webhooks: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    next_run_at: datetime | None
    last_execution: ExecutionSummaryResponse | None
    runs: RunCountsResponse = msgspec.field(default_factory=RunCountsResponse)
    average_duration_ms: int | None = None


class JobPage(msgspec.Struct, rename="camel"):
    items: list[JobResponse]
    next_cursor: str | None
