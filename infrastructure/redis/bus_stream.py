"""Reading the events stream: entry ids are `<position>-0`, the one field holds the envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from redis.asyncio import Redis

from application.eventbus import Event
from infrastructure.redis.keys import ENVELOPE_FIELD

# Below the client's socket timeout (10 s in the runtime): a longer BLOCK reads as a dead link.
BLOCK_MS = 5000
RECONNECT_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0)
_decode_json = msgspec.json.Decoder().decode


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def entry_position(entry_id: bytes | str) -> int:
    """The store position of a stream entry: the relay writes it as the id's first part."""
    return int(text(entry_id).split("-", 1)[0])


def raw_envelope(fields: Mapping[Any, Any]) -> bytes | None:
    raw = fields.get(ENVELOPE_FIELD.encode(), fields.get(ENVELOPE_FIELD))
    if raw is None:
        return None
    return raw if isinstance(raw, bytes) else str(raw).encode()


def decode_event(raw: bytes | None) -> Event | None:
    """The typed event, or None for an entry that is not a well-formed envelope."""
    if raw is None:
        return None
    try:
        value = _decode_json(raw)
        return Event.from_envelope(value) if isinstance(value, dict) else None
    except (msgspec.DecodeError, KeyError, TypeError, ValueError):
        return None  # not ours: a reader never dies on one bad entry


def position_id(position: int) -> str:
    """The stream id just at `position`: reading after it yields later positions only."""
    return f"{position}-0"


async def stream_tail(redis: Redis, stream: str) -> str:
    """The id of the newest entry now (`$` re-read later would skip entries in between)."""
    newest: Any = await redis.xrevrange(stream, count=1)
    return text(newest[0][0]) if newest else "0-0"


def reconnect_delay(failures: int) -> float:
    return RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
