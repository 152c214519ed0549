from __future__ import annotations

import pytest

from domain.errors import InvalidValue
from domain.patterns import (
    EventPattern,
    is_reserved_name,
    validate_event_name,
    validate_pattern,
)


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        # `*` is exactly one segment.
        ("module.*", "module.installed", True),
        ("module.*", "module.a.b", False),
        ("module.*", "module", False),
        ("module.*", "modules.installed", False),
        ("*", "deploy", True),
        ("*", "deploy.done", False),
        ("*.*", "a.b", True),
        ("*.*", "a", False),
        ("*.*", "a.b.c", False),
        ("*.failed", "execution.failed", True),
        ("*.failed", "execution.failed.late", False),
        ("a.*.c", "a.b.c", True),
        ("a.*.c", "a.c", False),
        ("a.*.c", "a.b.x.c", False),
        # `**` is zero or more segments.
        ("module.**", "module", True),
        ("module.**", "module.installed", True),
        ("module.**", "module.a.b", True),
        ("module.**", "modules", False),
        ("module.**", "modules.installed", False),
        ("module.**", "other.module.installed", False),
        ("**", "anything", True),
        ("**", "any.thing.at.all", True),
        ("**.failed", "failed", True),
        ("**.failed", "execution.failed", True),
        ("**.failed", "a.b.failed", True),
        ("**.failed", "failed.late", False),
        ("**.failed", "notfailed", False),
        ("a.**.z", "a.z", True),
        ("a.**.z", "a.b.z", True),
        ("a.**.z", "a.b.c.z", True),
        ("a.**.z", "a.zz", False),
        ("a.**.z", "ab.z", False),
        ("a.*.**", "a", False),
        ("a.*.**", "a.b", True),
        ("a.*.**", "a.b.c.d", True),
        # Literal segments match themselves only, exactly and case-sensitively.
        ("job.created", "job.created", True),
        ("job.created", "job.created.v2", False),
        ("job.created", "job", False),
        ("job.created", "Job.Created", False),
        ("billing.invoice-paid", "billing.invoice-paid", True),
        ("billing.invoice_paid", "billing.invoice-paid", False),
    ],
)
def test_a_pattern_matches_the_names_it_describes(pattern: str, name: str, matches: bool) -> None:
    assert EventPattern(pattern).matches(name) is matches


@pytest.mark.parametrize(
    "name",
    ["deploy", "module.installed", "a.b.c.d", "Billing.Invoice_Paid", "x-1.y_2", "_private", "9"],
)
def test_a_well_formed_event_name_is_accepted(name: str) -> None:
    assert validate_event_name(name) == name


def test_an_event_name_may_be_200_characters_but_not_201() -> None:
    longest = "a." * 99 + "ab"
    assert len(longest) == 200
    assert validate_event_name(longest) == longest

    with pytest.raises(InvalidValue) as refused:
        validate_event_name(longest + "c")
    assert refused.value.field == "name"
    assert refused.value.message == "must be 1 to 200 characters"


@pytest.mark.parametrize(
    ("name", "bad_segment"),
    [
        ("a..b", ""),
        (".a", ""),
        ("a.", ""),
        ("a b", "a b"),
        ("module/installed", "module/installed"),
        ("module.*", "*"),
        ("module.**", "**"),
        ("-leading-dash", "-leading-dash"),
        ("emoji.🎉", "🎉"),
    ],
)
def test_a_malformed_event_name_is_refused_naming_the_bad_segment(
    name: str, bad_segment: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        validate_event_name(name)

    assert refused.value.field == "name"
    assert refused.value.message.startswith(f"segment {bad_segment!r} of {name!r}")


def test_an_empty_event_name_is_refused() -> None:
    with pytest.raises(InvalidValue, match="must be 1 to 200 characters"):
        validate_event_name("")


def test_the_field_of_an_event_name_error_can_be_chosen() -> None:
    with pytest.raises(InvalidValue) as refused:
        validate_event_name("a..b", field="events[3].name")

    assert refused.value.field == "events[3].name"


@pytest.mark.parametrize("pattern", ["*", "**", "a.*.b", "**.failed", "module.**", "a-b.c_d"])
def test_a_well_formed_pattern_is_accepted(pattern: str) -> None:
    assert validate_pattern(pattern) == pattern
    assert EventPattern(pattern).text == pattern


@pytest.mark.parametrize(
    ("pattern", "bad_segment"),
    [
        ("a.***", "***"),
        ("module*", "module*"),
        ("mod*.x", "mod*"),
        ("a..b", ""),
        ("a.", ""),
        ("a.b?", "b?"),
        ("(a|b)", "(a|b)"),
    ],
)
def test_a_malformed_pattern_is_refused_naming_the_bad_segment(
    pattern: str, bad_segment: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        EventPattern(pattern)

    assert refused.value.field == "pattern"
    assert refused.value.message.startswith(f"segment {bad_segment!r} of {pattern!r}")


@pytest.mark.parametrize("pattern", ["", "a." * 100 + "b"])
def test_a_pattern_must_be_1_to_200_characters(pattern: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        validate_pattern(pattern, field="triggers[0]")

    assert refused.value.field == "triggers[0]"
    assert refused.value.message == "must be 1 to 200 characters"


@pytest.mark.parametrize(
    ("name", "reserved"),
    [
        ("job.created", True),
        ("execution.completed", True),
        ("module.installed", True),
        ("almanac.started", True),
        ("job", True),
        ("jobs.created", False),
        ("billing.job.created", False),
        ("myjob.done", False),
        ("deploy.done", False),
        ("Job.created", False),
    ],
)
def test_names_under_almanacs_own_prefixes_are_reserved(name: str, reserved: bool) -> None:
    assert is_reserved_name(name) is reserved


@pytest.mark.parametrize("name", ["module.installed\n", "deploy\n"])
def test_an_event_name_with_a_trailing_newline_is_refused(name: str) -> None:
    with pytest.raises(InvalidValue):
        validate_event_name(name)


def test_two_trailing_double_stars_match_like_one() -> None:
    assert EventPattern("module.**.**").matches("module")
