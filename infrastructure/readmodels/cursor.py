"""Keyset pages: opaque cursors (base64url of the last row's sort key, as JSON), the filter
conditions in front of them, and the page cut from one extra row."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from application.views import Page
from domain.errors import InvalidValue

_INVALID = "is not a cursor returned by this list"


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def decode_cursor[T](text: str, shape: type[T]) -> T:
    """The sort key inside a cursor, converted to `shape` (InvalidValue 'cursor' if it is not)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return msgspec.json.decode(raw, type=shape)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidValue("cursor", _INVALID) from None


def filter_conditions(checks: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
    """SQL conditions and their arguments for the checks whose value is not None; each check
    ends in `$`, which gets its argument's number."""
    found: list[str] = []
    args: list[Any] = []
    for condition, value in checks.items():
        if value is not None:
            args.append(value)
            found.append(f"{condition}{len(args)}")
    return found, args


def keyset_page[R, T](
    records: Sequence[R], limit: int, view: Callable[[R], T], key: Callable[[T], list[Any]]
) -> Page[T]:
    """A page from up to `limit + 1` rows: the extra row only says that more follow."""
    items = [view(record) for record in records[:limit]]
    cursor = encode_cursor(key(items[-1])) if len(records) > limit else None
    return Page(items, cursor)
