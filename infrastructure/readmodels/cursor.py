"""Opaque page cursors: base64url of the last row's sort key, as JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

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
