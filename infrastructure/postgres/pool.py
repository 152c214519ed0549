"""asyncpg pools with JSON columns encoded and decoded by msgspec."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

_encode = msgspec.json.Encoder().encode
_JSONB_VERSION = b"\x01"


def _encode_jsonb(value: Any) -> bytes:
    return _JSONB_VERSION + _encode(value)


def _decode_jsonb(data: bytes) -> Any:
    return msgspec.json.decode(data[1:])


async def _init_connection(connection: asyncpg.Connection) -> None:
    # Binary codecs: they also serve COPY, which has no text-format path in asyncpg.
    await connection.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog", format="binary"
    )
    await connection.set_type_codec(
        "json", encoder=_encode, decoder=msgspec.json.decode, schema="pg_catalog", format="binary"
    )


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to undo on release: pool connections never LISTEN (the shared listener has its
    own connection), SET, or keep an advisory lock past their use (holders unlock in
    `finally`). asyncpg still rolls back an open transaction; what this skips is its reset
    query, a second round trip after every pooled query."""


async def open_pool(database_url: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections speak JSON natively; the caller closes it."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
        server_settings={"application_name": "almanac"},
    )
    if pool is None:  # only when asyncpg is misused; keeps the return type honest
        raise RuntimeError("asyncpg returned no pool")
    return pool


async def connect(database_url: str) -> asyncpg.Connection:
    """One connection with the same JSON codecs (for LISTEN and advisory locks)."""
    connection = await asyncpg.connect(
        database_url, server_settings={"application_name": "almanac"}
    )
    await _init_connection(connection)
    return connection
