"""Builds the eventsourcing Application from settings: Postgres in production, memory in tests."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.application import Application

APPLICATION_NAME = "almanac"
MAPPER_TOPIC = "infrastructure.eventstore.mapper:MsgspecMapper"
RECORDER_TOPIC = "infrastructure.eventstore.recorder:ColumnarPostgresApplicationRecorder"


class AlmanacEvents(Application[UUID]):
    """The single event store: one table (`almanac_events`), one order, one relay position."""

    name = APPLICATION_NAME


def postgres_env(database_url: str, pool_size: int = 8) -> dict[str, str]:
    """Library settings: small timeouts, no implicit DDL, the locking insert path (never the
    DB-functions path, which lets tailing readers miss events)."""
    parts = urlsplit(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        # Start with one connection and grow on demand: every role process has a store, and
        # Postgres connections are a shared, limited resource.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": str(max(pool_size, 1)),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_PRE_PING": "n",  # a broken connection surfaces as an error we retry
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "CREATE_TABLE": "n",
        "MAPPER_TOPIC": MAPPER_TOPIC,
        "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
    }


def memory_env() -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.popo", "MAPPER_TOPIC": MAPPER_TOPIC}


def build_application(env: dict[str, str]) -> AlmanacEvents:
    return AlmanacEvents(env=env)


def create_event_tables(database_url: str) -> None:
    """The library's own DDL for the events table, run by `almanac migrate` only."""
    env = postgres_env(database_url, pool_size=1) | {"CREATE_TABLE": "y"}
    AlmanacEvents(env=env).close()
