"""What a job is: its handler, schedule, limits and policies. Validated as a whole."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from domain.cron import CronSchedule, normalise_expression, zone
from domain.errors import InvalidValue, InvalidValues
from domain.patterns import validate_pattern
from domain.retry import RetryPolicy

MIN_TIMEOUT_MS = 1_000
MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000
MAX_CONFIG_BYTES = 64 * 1024
MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_TRIGGERS = 20
MAX_WEBHOOKS = 10
MAX_CATCH_UP = 1000


class OverlapPolicy(StrEnum):
    """What to do with an occurrence while the previous run of the job is unfinished."""

    ALLOW = "allow"
    SKIP = "skip"
    QUEUE = "queue"


class CatchUp(StrEnum):
    """Which occurrences missed beyond the grace period still run."""

    NONE = "none"
    LATEST = "latest"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class MisfirePolicy:
    """Occurrences late by up to `grace_ms` run; later ones follow `catch_up` (at most `limit`)."""

    grace_ms: int = 10_000
    catch_up: CatchUp = CatchUp.LATEST
    limit: int = 100

    def problems(self) -> list[InvalidValue]:
        """Every way this policy is out of bounds (checked on commands, never on replay)."""
        found = []
        if not 0 <= self.grace_ms <= MAX_TIMEOUT_MS:
            found.append(InvalidValue("misfire.graceMs", f"must be between 0 and {MAX_TIMEOUT_MS}"))
        if not 1 <= self.limit <= MAX_CATCH_UP:
            found.append(InvalidValue("misfire.limit", f"must be between 1 and {MAX_CATCH_UP}"))
        return found


@dataclass(frozen=True, slots=True)
class JobDefinition:
    """The full definition of a job; an update replaces it as a whole.

    Construction does not validate, so stored history always replays; commands call
    `validated()`, which checks every field and normalises the schedule.
    """

    name: str
    module_id: str
    handler: str
    description: str = ""
    schedule: str | None = None
    timezone: str = "UTC"
    timeout_ms: int = 300_000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    config: Mapping[str, Any] = field(default_factory=dict)
    overlap: OverlapPolicy = OverlapPolicy.ALLOW
    misfire: MisfirePolicy = field(default_factory=MisfirePolicy)
    triggers: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()

    def validated(self) -> JobDefinition:
        """This definition with its schedule normalised, or InvalidValues naming every problem."""
        errors = [error for check in _CHECKS for error in check(self)]
        errors += self.retry.problems() + self.misfire.problems()
        if errors:
            raise InvalidValues(errors)
        if self.schedule is None:
            return self
        return replace(self, schedule=normalise_expression(self.schedule))

    @property
    def cron(self) -> CronSchedule | None:
        return None if self.schedule is None else CronSchedule(self.schedule, self.timezone)

    def with_changes(self, **changes: Any) -> JobDefinition:
        """A copy with some fields replaced, validated again."""
        return replace(self, **changes).validated()


def _check_name(d: JobDefinition) -> list[InvalidValue]:
    text = d.name.strip()
    if not text or len(d.name) > MAX_NAME:
        return [InvalidValue("name", f"must be 1 to {MAX_NAME} characters")]
    return []


def _check_description(d: JobDefinition) -> list[InvalidValue]:
    if len(d.description) > MAX_DESCRIPTION:
        return [InvalidValue("description", f"must be at most {MAX_DESCRIPTION} characters")]
    return []


def _check_module(d: JobDefinition) -> list[InvalidValue]:
    if not d.module_id or len(d.module_id) > MAX_NAME:
        return [InvalidValue("moduleId", f"must be 1 to {MAX_NAME} characters")]
    return []


def _check_handler(d: JobDefinition) -> list[InvalidValue]:
    try:
        validate_handler_path(d.handler)
    except InvalidValue as error:
        return [error]
    return []


def _check_schedule(d: JobDefinition) -> list[InvalidValue]:
    errors: list[InvalidValue] = []
    for check in (
        lambda: d.schedule is None or normalise_expression(d.schedule),
        lambda: zone(d.timezone),
    ):
        try:
            check()
        except InvalidValue as error:
            errors.append(error)
    return errors


def _check_timeout(d: JobDefinition) -> list[InvalidValue]:
    if not MIN_TIMEOUT_MS <= d.timeout_ms <= MAX_TIMEOUT_MS:
        limits = f"between {MIN_TIMEOUT_MS} and {MAX_TIMEOUT_MS} ms"
        return [InvalidValue("timeout", f"must be {limits}")]
    return []


def _check_config(d: JobDefinition) -> list[InvalidValue]:
    if not isinstance(d.config, Mapping):
        return [InvalidValue("config", "must be a JSON object")]
    try:
        size = len(
            json.dumps(
                d.config, allow_nan=False, ensure_ascii=False, separators=(",", ":")
            ).encode()
        )
    except (TypeError, ValueError):
        return [InvalidValue("config", "must contain only JSON values")]
    if size > MAX_CONFIG_BYTES:
        return [InvalidValue("config", f"must be at most {MAX_CONFIG_BYTES} bytes as JSON")]
    return []


def _check_triggers(d: JobDefinition) -> list[InvalidValue]:
    if len(d.triggers) > MAX_TRIGGERS:
        return [InvalidValue("triggers", f"at most {MAX_TRIGGERS} patterns")]
    errors: list[InvalidValue] = []
    for index, pattern in enumerate(d.triggers):
        try:
            validate_pattern(pattern, f"triggers[{index}]")
        except InvalidValue as error:
            errors.append(error)
    return errors


def _check_webhooks(d: JobDefinition) -> list[InvalidValue]:
    if len(d.webhooks) > MAX_WEBHOOKS:
        return [InvalidValue("webhooks", f"at most {MAX_WEBHOOKS} URLs")]
    errors = []
    for index, url in enumerate(d.webhooks):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(InvalidValue(f"webhooks[{index}]", "must be an http(s) URL"))
    return errors


_CHECKS = (
    _check_name,
    _check_description,
    _check_module,
    _check_handler,
    _check_schedule,
    _check_timeout,
    _check_config,
    _check_triggers,
    _check_webhooks,
)


def validate_handler_path(path: str, field: str = "handler") -> str:
    """A handler is a relative `.py` path inside its module folder: no `..`, no absolute path."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or "\\" in path or "\x00" in path:
        raise InvalidValue(field, "must be a relative path inside the module, e.g. jobs/sync.py")
    if any(part in ("..", ".", "") for part in path.split("/")):
        raise InvalidValue(field, "must not contain '.' or '..' segments (stays inside its module)")
    if pure.suffix != ".py":
        raise InvalidValue(field, "must name a Python file ending in .py")
    return path
