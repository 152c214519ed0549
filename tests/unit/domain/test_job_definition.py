from __future__ import annotations

import json
from typing import Any

import pytest

from domain.cron import PRESETS, CronSchedule
from domain.errors import InvalidValue, InvalidValues
from domain.job_definition import (
    MAX_CONFIG_BYTES,
    MAX_TIMEOUT_MS,
    MIN_TIMEOUT_MS,
    JobDefinition,
    MisfirePolicy,
    validate_handler_path,
)
from domain.retry import RetryPolicy
from tests.unit.domain.builders import definition


def problems(candidate: JobDefinition) -> list[InvalidValue]:
    with pytest.raises(InvalidValues) as refused:
        candidate.validated()
    return refused.value.errors


def fields(candidate: JobDefinition) -> list[str]:
    return [error.field for error in problems(candidate)]


def config_of_size(size: int) -> dict[str, str]:
    """A config whose JSON text (as the domain measures it) is exactly `size` bytes."""
    padding = size - len('{"k":""}')
    return {"k": "x" * padding}


def test_a_valid_definition_validates_to_itself() -> None:
    valid = definition()

    assert valid.validated() == valid


def test_a_minimal_definition_without_a_schedule_is_valid() -> None:
    minimal = JobDefinition(name="adhoc", module_id="tools", handler="run.py")

    assert minimal.validated() == minimal
    assert minimal.cron is None


INVALID_FIELDS = [
    pytest.param({"name": ""}, "name", id="name-empty"),
    pytest.param({"name": "   "}, "name", id="name-blank"),
    pytest.param({"name": "n" * 201}, "name", id="name-201"),
    pytest.param({"description": "d" * 2001}, "description", id="description-2001"),
    pytest.param({"module_id": ""}, "moduleId", id="module-empty"),
    pytest.param({"module_id": "m" * 201}, "moduleId", id="module-201"),
    pytest.param({"handler": "../x.py"}, "handler", id="handler-parent"),
    pytest.param({"handler": "jobs/../../x.py"}, "handler", id="handler-parent-inside"),
    pytest.param({"handler": "/abs.py"}, "handler", id="handler-absolute"),
    pytest.param({"handler": "a.js"}, "handler", id="handler-not-python"),
    pytest.param({"handler": "jobs/sync"}, "handler", id="handler-no-suffix"),
    pytest.param({"handler": ""}, "handler", id="handler-empty"),
    pytest.param({"handler": "jobs\\sync.py"}, "handler", id="handler-backslash"),
    pytest.param({"handler": "jobs/sync\x00.py"}, "handler", id="handler-nul"),
    pytest.param({"schedule": "61 * * * *"}, "schedule", id="schedule-out-of-range"),
    pytest.param({"schedule": "every day"}, "schedule", id="schedule-garbage"),
    pytest.param({"schedule": ""}, "schedule", id="schedule-empty"),
    pytest.param({"timezone": "Europe/Atlantis"}, "timezone", id="timezone-unknown"),
    pytest.param({"timezone": ""}, "timezone", id="timezone-empty"),
    pytest.param({"timeout_ms": MIN_TIMEOUT_MS - 1}, "timeout", id="timeout-999ms"),
    pytest.param({"timeout_ms": MAX_TIMEOUT_MS + 1}, "timeout", id="timeout-24h-plus-1ms"),
    pytest.param({"timeout_ms": 0}, "timeout", id="timeout-zero"),
    pytest.param({"retry": RetryPolicy(retries=-1)}, "retries", id="retries-negative"),
    pytest.param({"retry": RetryPolicy(retries=26)}, "retries", id="retries-26"),
    pytest.param({"retry": RetryPolicy(base_ms=0)}, "backoff.baseMs", id="backoff-base-zero"),
    pytest.param(
        {"retry": RetryPolicy(base_ms=2000, max_ms=1000)}, "backoff.maxMs", id="backoff-max-low"
    ),
    pytest.param({"misfire": MisfirePolicy(grace_ms=-1)}, "misfire.graceMs", id="grace-negative"),
    pytest.param({"misfire": MisfirePolicy(limit=0)}, "misfire.limit", id="catch-up-limit-0"),
    pytest.param({"misfire": MisfirePolicy(limit=1001)}, "misfire.limit", id="catch-up-1001"),
    pytest.param({"config": ["not", "an", "object"]}, "config", id="config-list"),
    pytest.param({"config": "text"}, "config", id="config-string"),
    pytest.param({"config": {"x": float("nan")}}, "config", id="config-nan"),
    pytest.param({"config": {"x": object()}}, "config", id="config-not-json"),
    pytest.param({"config": config_of_size(MAX_CONFIG_BYTES + 1)}, "config", id="config-64k+1"),
    pytest.param({"triggers": ("billing..paid",)}, "triggers[0]", id="trigger-malformed"),
    pytest.param({"triggers": ("ok.*", "bad*")}, "triggers[1]", id="trigger-second"),
    pytest.param({"triggers": tuple(f"t{n}" for n in range(21))}, "triggers", id="triggers-21"),
    pytest.param({"webhooks": ("ftp://h.example/x",)}, "webhooks[0]", id="webhook-ftp"),
    pytest.param({"webhooks": ("https://",)}, "webhooks[0]", id="webhook-no-host"),
    pytest.param({"webhooks": ("h.example/x",)}, "webhooks[0]", id="webhook-no-scheme"),
    pytest.param(
        {"webhooks": tuple(f"https://h.example/{n}" for n in range(11))},
        "webhooks",
        id="webhooks-11",
    ),
]


@pytest.mark.parametrize(("changes", "field"), INVALID_FIELDS)
def test_an_invalid_field_is_refused_by_name(changes: dict[str, Any], field: str) -> None:
    assert fields(definition(**changes)) == [field]


VALID_FIELDS = [
    pytest.param({"name": "n" * 200}, id="name-200"),
    pytest.param({"description": "d" * 2000}, id="description-2000"),
    pytest.param({"description": ""}, id="description-empty"),
    pytest.param({"module_id": "m" * 200}, id="module-200"),
    pytest.param({"handler": "sync.py"}, id="handler-top-level"),
    pytest.param({"handler": "jobs/deep/sync.py"}, id="handler-nested"),
    pytest.param({"schedule": None}, id="no-schedule"),
    pytest.param({"schedule": "*/10 * * * * *"}, id="schedule-with-seconds"),
    pytest.param({"schedule": "@daily"}, id="schedule-nickname"),
    pytest.param({"timezone": "UTC"}, id="timezone-utc"),
    pytest.param({"timeout_ms": MIN_TIMEOUT_MS}, id="timeout-1s"),
    pytest.param({"timeout_ms": MAX_TIMEOUT_MS}, id="timeout-24h"),
    pytest.param({"retry": RetryPolicy(retries=0)}, id="retries-0"),
    pytest.param({"retry": RetryPolicy(retries=25)}, id="retries-25"),
    pytest.param({"misfire": MisfirePolicy(grace_ms=0, limit=1)}, id="misfire-low"),
    pytest.param({"misfire": MisfirePolicy(grace_ms=MAX_TIMEOUT_MS, limit=1000)}, id="misfire-top"),
    pytest.param({"config": {}}, id="config-empty"),
    pytest.param({"config": {"a": [1, 2.5, None, True, {"b": "c"}]}}, id="config-nested"),
    pytest.param({"config": config_of_size(MAX_CONFIG_BYTES)}, id="config-64k"),
    pytest.param({"triggers": tuple(f"t{n}.**" for n in range(20))}, id="triggers-20"),
    pytest.param(
        {"webhooks": ("http://h.example/x", "https://h.example:8443/y?z=1")}, id="webhooks-http-s"
    ),
    pytest.param(
        {"webhooks": tuple(f"https://h.example/{n}" for n in range(10))}, id="webhooks-10"
    ),
]


@pytest.mark.parametrize("changes", VALID_FIELDS)
def test_a_value_at_the_edge_of_its_range_is_accepted(changes: dict[str, Any]) -> None:
    candidate = definition(**changes)

    assert candidate.validated() == candidate


def test_the_config_limit_is_64_kib() -> None:
    assert MAX_CONFIG_BYTES == 64 * 1024


def test_the_timeout_limits_are_one_second_and_one_day() -> None:
    assert (MIN_TIMEOUT_MS, MAX_TIMEOUT_MS) == (1_000, 86_400_000)


def test_every_invalid_field_is_reported_at_once() -> None:
    candidate = definition(
        name="",
        module_id="",
        handler="../escape.py",
        schedule="* * *",
        timezone="Nowhere/Land",
        timeout_ms=10,
        retry=RetryPolicy(retries=99, base_ms=0),
        misfire=MisfirePolicy(limit=0),
        config=[1],
        triggers=("a..b",),
        webhooks=("mailto:x@example.com",),
    )

    found = problems(candidate)

    assert sorted(error.field for error in found) == sorted(
        [
            "name",
            "moduleId",
            "handler",
            "schedule",
            "timezone",
            "timeout",
            "retries",
            "backoff.baseMs",
            "misfire.limit",
            "config",
            "triggers[0]",
            "webhooks[0]",
        ]
    )
    assert all(isinstance(error, InvalidValue) and error.message for error in found)


def test_the_invalid_values_message_lists_every_problem() -> None:
    with pytest.raises(InvalidValues) as refused:
        definition(name="", timeout_ms=10).validated()

    assert str(refused.value) == (
        "name: must be 1 to 200 characters; timeout: must be between 1000 and 86400000 ms"
    )


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("../x.py", "must not contain '.' or '..' segments (stays inside its module)"),
        ("/abs.py", "must be a relative path inside the module, e.g. jobs/sync.py"),
        ("a.js", "must name a Python file ending in .py"),
    ],
)
def test_a_bad_handler_path_says_what_is_wrong(handler: str, message: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        validate_handler_path(handler)

    assert (refused.value.field, refused.value.message) == ("handler", message)


@pytest.mark.parametrize("preset", PRESETS)
def test_a_preset_schedule_is_normalised_to_its_expression(preset: str) -> None:
    validated = definition(schedule=preset).validated()

    assert validated.schedule == PRESETS[preset]
    assert validated.cron == CronSchedule(PRESETS[preset], "Europe/Berlin")


def test_a_schedule_is_tidied_when_validated() -> None:
    assert definition(schedule=" 0  2 * * * ").validated().schedule == "0 2 * * *"


def test_with_changes_returns_a_validated_copy() -> None:
    original = definition()

    changed = original.with_changes(schedule="hourly", timeout_ms=60_000)

    assert (changed.schedule, changed.timeout_ms) == ("0 * * * *", 60_000)
    assert original.schedule == "0 2 * * *"


def test_with_changes_refuses_an_invalid_change() -> None:
    with pytest.raises(InvalidValues) as refused:
        definition().with_changes(handler="/etc/passwd.py")

    assert [error.field for error in refused.value.errors] == ["handler"]


def test_the_cron_of_a_definition_uses_its_time_zone() -> None:
    assert definition().cron == CronSchedule("0 2 * * *", "Europe/Berlin")


def test_constructing_an_invalid_definition_does_not_raise_so_old_history_replays() -> None:
    stored = JobDefinition(name="", module_id="", handler="../x.py", timeout_ms=0)

    assert stored.handler == "../x.py"


def test_a_config_of_40_kb_of_utf8_json_is_within_the_64_kib_limit() -> None:
    config = {"k": "é" * 20_000}
    assert len(json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode()) < 41_000

    assert definition(config=config).validated().config == config
