"""Strict body decoding: every field checked on its own, paths named, JSON only."""

from __future__ import annotations

from interfaces.http.body import decode_fields, storable_problems
from interfaces.http.params import expected_version
from interfaces.http.schemas.jobs import BackoffInput, JobCreateRequest


def test_each_field_is_converted_strictly_and_named() -> None:
    data = {
        "name": "n",
        "moduleId": "m",
        "handler": "h.py",
        "retries": "5",
        "enabled": 1,
        "triggers": ["a", 2],
        "backoff": {"baseMs": 10, "maxMs": "x", "extra": 1},
    }
    values, errors = decode_fields(data, JobCreateRequest)
    fields = {error.field for error in errors}
    assert fields == {"retries", "enabled", "triggers[1]", "backoff.maxMs", "backoff.extra"}
    assert values["name"] == "n"
    assert "backoff" not in values


def test_nested_structs_are_built_when_valid() -> None:
    values, errors = decode_fields(
        {"name": "n", "moduleId": "m", "handler": "h.py", "backoff": {"jitter": False}},
        JobCreateRequest,
    )
    assert errors == []
    assert values["backoff"] == BackoffInput(jitter=False)


def test_storable_problems_name_paths() -> None:
    problems = storable_problems({"config": {"a": ["ok", "bad\x00"]}, "k\x00": 1})
    assert [p.field for p in problems] == ["config.a[1]", "k\x00"]


def test_if_match_forms() -> None:
    assert expected_version(None) is None
    assert expected_version("*") is None
    assert expected_version('"3"') == 3
    assert expected_version('W/"4", "5"') == 4
    assert expected_version("garbage") == -1  # matches no version: 412
