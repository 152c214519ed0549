"""Event patterns become SQL regexes that agree with the domain's matcher; cursors round-trip."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidValue
from domain.patterns import EventPattern
from infrastructure.readmodels.cursor import decode_cursor, encode_cursor
from infrastructure.readmodels.event_queries import pattern_regex
from infrastructure.readmodels.job_queries import like_escape

NAMES = [
    "module",
    "module.installed",
    "module.a.b",
    "order.created",
    "order.line.created",
    "job-x.done_1",
    "a.b.c.d",
    "b",
]
PATTERNS = ["module.*", "module.**", "*", "**", "*.created", "**.created", "order.*.created", "b"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_sql_regex_matches_exactly_what_the_domain_pattern_matches(pattern: str) -> None:
    regex = re.compile(pattern_regex(pattern))
    for name in NAMES:
        assert bool(regex.match("." + name)) == EventPattern(pattern).matches(name), name


def test_one_star_is_one_segment_and_two_stars_any_number() -> None:
    one, many = re.compile(pattern_regex("module.*")), re.compile(pattern_regex("module.**"))
    assert one.match(".module.installed")
    assert not one.match(".module.a.b")
    assert many.match(".module.a.b")
    assert many.match(".module")


def test_a_bad_pattern_names_the_pattern_field() -> None:
    with pytest.raises(InvalidValue) as error:
        pattern_regex("module..x")
    assert error.value.field == "pattern"


def test_cursors_round_trip_and_garbage_is_a_cursor_error() -> None:
    key = [datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), uuid4()]
    assert list(decode_cursor(encode_cursor(key), tuple[datetime, UUID])) == key
    with pytest.raises(InvalidValue) as error:
        decode_cursor("not-a-cursor", tuple[str, int])
    assert error.value.field == "cursor"


def test_like_patterns_match_wildcards_literally() -> None:
    assert like_escape("50%_off\\") == "50\\%\\_off\\\\"
