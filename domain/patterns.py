"""Event names and subscription patterns: dot-separated segments, `*` one segment, `**` any."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from domain.errors import InvalidValue

MAX_NAME_LENGTH = 200
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*")
RESERVED_PREFIXES = ("job", "execution", "module", "almanac")


def validate_event_name(name: str, field: str = "name") -> str:
    """An event name is 1-200 characters of non-empty segments of letters, digits, `_` and `-`."""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidValue(field, f"must be 1 to {MAX_NAME_LENGTH} characters")
    for segment in name.split("."):
        if not _SEGMENT.fullmatch(segment):
            raise InvalidValue(
                field,
                f"segment {segment!r} of {name!r} must be letters, digits, '_' or '-' "
                "(segments are separated by '.')",
            )
    return name


def is_reserved_name(name: str) -> bool:
    """Names under job., execution., module. and almanac. are emitted by Almanac alone."""
    return name.split(".", 1)[0] in RESERVED_PREFIXES


@dataclass(frozen=True, slots=True)
class EventPattern:
    """A subscription pattern: `*` matches exactly one segment, `**` zero or more."""

    text: str

    def __post_init__(self) -> None:
        validate_pattern(self.text)

    def matches(self, name: str) -> bool:
        return _compiled(self.text).fullmatch(name) is not None


def validate_pattern(text: str, field: str = "pattern") -> str:
    """A pattern is an event name whose segments may also be `*` or `**`."""
    if not text or len(text) > MAX_NAME_LENGTH:
        raise InvalidValue(field, f"must be 1 to {MAX_NAME_LENGTH} characters")
    for segment in text.split("."):
        if segment in ("*", "**"):
            continue
        if not _SEGMENT.fullmatch(segment):
            raise InvalidValue(
                field,
                f"segment {segment!r} of {text!r} must be a name, '*' (one segment) "
                "or '**' (any number of segments)",
            )
    return text


@lru_cache(maxsize=4096)
def _compiled(text: str) -> re.Pattern[str]:
    parts: list[str] = []
    segments = _collapse_double_stars(text.split("."))
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            # `a.**` matches `a` and `a.b.c`; `**.b` matches `b` and `x.y.b`.
            parts.append(r"(?:[^.]+(?:\.[^.]+)*)?" if last else r"(?:[^.]+\.)*")
            continue
        piece = r"[^.]+" if segment == "*" else re.escape(segment)
        parts.append(piece if last else piece + r"\.")
    regex = "".join(parts)
    # `a.**` must also match plain `a`: make the dot before a trailing `**` optional.
    regex = regex.replace(r"\.(?:[^.]+(?:\.[^.]+)*)?", r"(?:\.[^.]+(?:\.[^.]+)*)?")
    return re.compile(regex)


def _collapse_double_stars(segments: list[str]) -> list[str]:
    """`a.**.**` means the same as `a.**`."""
    collapsed: list[str] = []
    for segment in segments:
        if segment == "**" and collapsed and collapsed[-1] == "**":
            continue
        collapsed.append(segment)
    return collapsed
