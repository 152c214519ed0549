"""manifest.json in the seed's format, plus Almanac's extensions, decoded strictly."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import msgspec

from application.dependencies import JobDefaults
from domain.errors import InvalidValues
from domain.job_definition import CatchUp, JobDefinition, MisfirePolicy, OverlapPolicy
from domain.module import ModuleManifest
from domain.retry import RetryPolicy

MODULE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_MANIFEST_BYTES = 1024 * 1024


class BackoffDoc(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    base_ms: int = 1000
    max_ms: int = 300_000
    jitter: bool = True


class MisfireDoc(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    grace_ms: int = 10_000
    catch_up: CatchUp = CatchUp.LATEST
    limit: int = 100


class JobDoc(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: str
    handler: str
    description: str = ""
    schedule: str | None = None
    timezone: str = "UTC"
    timeout: int | None = None
    retries: int | None = None
    backoff: BackoffDoc = msgspec.field(default_factory=BackoffDoc)
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    overlap: OverlapPolicy = OverlapPolicy.ALLOW
    misfire: MisfireDoc = msgspec.field(default_factory=MisfireDoc)
    triggers: list[str] = msgspec.field(default_factory=list)
    webhooks: list[str] = msgspec.field(default_factory=list)


class ManifestDoc(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    version: str
    description: str = ""
    capabilities: dict[str, Any] = msgspec.field(default_factory=dict)
    jobs: list[JobDoc] = msgspec.field(default_factory=list)
    events: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)


class ManifestError(ValueError):
    """A manifest that cannot be used; names the file and the offending field."""

    def __init__(self, path: Path, field: str, message: str) -> None:
        self.path, self.field, self.message = path, field, message
        super().__init__(f"{path}: {field}: {message}")


def read_manifest(
    path: Path, defaults: JobDefaults
) -> tuple[ModuleManifest, tuple[JobDefinition, ...]]:
    """Decode and validate one manifest.json; raises ManifestError on the first problem."""
    raw = path.read_bytes()
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(path, "$", f"is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        doc = msgspec.json.decode(raw, type=ManifestDoc)
    except msgspec.ValidationError as error:
        field, _, message = _split(str(error))
        raise ManifestError(path, field, message) from None
    except msgspec.DecodeError as error:
        raise ManifestError(path, "$", f"is not valid JSON ({error})") from None
    if not MODULE_NAME.match(doc.name):
        raise ManifestError(path, "name", "must be 1-63 of a-z, 0-9, '-', '_' (lower case)")
    jobs = tuple(_definition(path, doc, index, defaults) for index in range(len(doc.jobs)))
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise ManifestError(path, "jobs", "job names must be unique within a module")
    manifest = ModuleManifest(
        name=doc.name,
        version=doc.version,
        path=str(path.parent.resolve()),
        digest=hashlib.sha256(raw).hexdigest(),
        jobs=tuple(names),
        event_schemas=doc.events,
    )
    return manifest, jobs


def _definition(path: Path, doc: ManifestDoc, index: int, defaults: JobDefaults) -> JobDefinition:
    job = doc.jobs[index]
    definition = JobDefinition(
        name=job.name,
        module_id=doc.name,
        handler=job.handler,
        description=job.description,
        schedule=job.schedule,
        timezone=job.timezone,
        timeout_ms=defaults.timeout_ms if job.timeout is None else job.timeout,
        retry=RetryPolicy(
            retries=defaults.retries if job.retries is None else job.retries,
            base_ms=job.backoff.base_ms,
            max_ms=job.backoff.max_ms,
            jitter=job.backoff.jitter,
        ),
        config=job.config,
        overlap=job.overlap,
        misfire=MisfirePolicy(job.misfire.grace_ms, job.misfire.catch_up, job.misfire.limit),
        triggers=tuple(job.triggers),
        webhooks=tuple(job.webhooks),
    )
    try:
        return definition.validated()
    except InvalidValues as invalid:
        first = invalid.errors[0]
        raise ManifestError(path, f"jobs[{index}].{first.field}", first.message) from None


def _split(message: str) -> tuple[str, str, str]:
    """msgspec says 'Expected `int`, got `str` - at `$.jobs[0].timeout`'."""
    text, _, where = message.partition(" - at `")
    field = where.rstrip("`").removeprefix("$.") or "$"
    return field, "", text
