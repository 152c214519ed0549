"""From job request bodies to commands, reporting every invalid field in one 422.

Type errors are found field by field; the well-typed fields are then checked by the domain
too, so a client learns about `"retries": "5"` and a bad cron in the same answer.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from msgspec import UNSET

from application.commands import CreateJob, UpdateJob
from application.dependencies import Dependencies
from application.jobs import apply_changes
from application.views import JobView, job_definition
from domain.cron import zone
from domain.errors import InvalidValue, InvalidValues
from domain.job_definition import CatchUp, JobDefinition, OverlapPolicy
from domain.retry import RetryPolicy
from interfaces.http.body import decode_fields
from interfaces.http.problems import FieldError, invalid
from interfaces.http.schemas.jobs import JobCreateRequest, JobUpdateRequest

ACTOR = "api"
_SIMPLE = ("name", "description", "module_id", "handler", "schedule", "timezone", "config")
_ROOT = re.compile(r"^[^.\[]+")


def create_command(data: Any, deps: Dependencies) -> CreateJob:
    """A CreateJob from a POST body, or a 422 naming every invalid field."""
    values, errors = decode_fields(data, JobCreateRequest)
    if not isinstance(data, dict):
        raise invalid(errors)
    errors += _unreadable_zone(values)
    base = JobDefinition(
        name=values.get("name", "job"),
        module_id=values.get("module_id", ""),
        handler=values.get("handler", "handler.py"),
        timeout_ms=deps.defaults.timeout_ms,
        retry=RetryPolicy(retries=deps.defaults.retries),
    )
    definition = apply_changes(base, changes_from(values))
    if errors:
        raise invalid(errors + _domain_problems(definition, deps, set(data), errors))
    return CreateJob(definition, ACTOR, enabled=values.get("enabled", True))


def update_command(
    data: Any, job_id: UUID, current: JobView | None, deps: Dependencies, version: int | None
) -> UpdateJob:
    """An UpdateJob of the fields sent, or a 422 naming every invalid one."""
    values, errors = decode_fields(data, JobUpdateRequest)
    if not isinstance(data, dict):
        raise invalid(errors)
    errors += _unreadable_zone(values)
    changes = changes_from(values)
    if errors and current is not None:
        definition = apply_changes(job_definition(current), changes)
        raise invalid(errors + _domain_problems(definition, deps, set(data), errors))
    if errors:
        raise invalid(errors)
    return UpdateJob(job_id, changes, ACTOR, expected_version=version)


def changes_from(values: dict[str, Any]) -> dict[str, Any]:
    """Domain field names for the API fields present (`timeout` is `timeout_ms`, ...)."""
    changes = {key: values[key] for key in _SIMPLE if key in values}
    if values.get("timeout") is not None:
        changes["timeout_ms"] = values["timeout"]
    if "overlap" in values:
        changes["overlap"] = OverlapPolicy(values["overlap"])
    for key in ("triggers", "webhooks"):
        if key in values:
            changes[key] = tuple(values[key])
    retry = _present(values.get("backoff"))
    if values.get("retries") is not None:
        retry["retries"] = values["retries"]
    if retry:
        changes["retry"] = retry
    misfire = _present(values.get("misfire"))
    if "catch_up" in misfire:
        misfire["catch_up"] = CatchUp(misfire["catch_up"])
    if misfire:
        changes["misfire"] = misfire
    return changes


def _unreadable_zone(values: dict[str, Any]) -> list[FieldError]:
    """Zone names the zoneinfo loader trips over (a folder such as `Europe`, a name too long
    for a file name) raise OSError, not the domain's InvalidValue: catch them here, by name."""
    name = values.get("timezone")
    if not isinstance(name, str):
        return []
    try:
        zone(name)
    except InvalidValue:
        return []  # the domain names this one itself
    except OSError:
        del values["timezone"]
        return [FieldError("timezone", f"unknown IANA time zone {name[:100]!r}")]
    return []


def _present(struct: Any) -> dict[str, Any]:
    if struct is None or struct is UNSET:
        return {}
    fields = struct.__struct_fields__
    return {name: getattr(struct, name) for name in fields if getattr(struct, name) is not UNSET}


def _domain_problems(
    definition: JobDefinition, deps: Dependencies, sent: set[str], found: list[FieldError]
) -> list[FieldError]:
    """The domain's objections to fields that were sent and are well typed."""
    problems: list[InvalidValue] = []
    try:
        definition.validated()
    except InvalidValues as error:
        problems += error.errors
    for field, message in deps.modules.problems_with_handler(
        definition.module_id, definition.handler
    ):
        problems.append(InvalidValue(field, message))
    bad = {_root(error.field) for error in found}
    return [
        FieldError(p.field, p.message)
        for p in problems
        if _root(p.field) in sent and _root(p.field) not in bad
    ]


def _root(field: str) -> str:
    match = _ROOT.match(field)
    return match.group(0) if match else field
