"""The public JSON's conventions, shared by the event envelope, the API and the dashboard.

Keys are camelCase, except inside user data, which is passed through exactly as sent; times
are ISO-8601 in UTC with milliseconds and a Z.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

# Keys whose values are user data (job config, results, payloads, log fields): never renamed.
USER_DATA_KEYS = frozenset({"config", "result", "payload", "event", "event_schemas", "fields"})
# Keys whose values name fields (job.updated's `changed`): renamed like the keys they name.
FIELD_NAME_KEYS = frozenset({"changed"})


def iso(moment: datetime) -> str:
    """e.g. 2026-11-29T10:00:00.123Z, whatever zone the moment was read with."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def camelize(value: Any) -> Any:
    """snake_case keys to camelCase, recursively, leaving user data untouched."""
    if isinstance(value, Mapping):
        return {_camel(str(key)): _camelize_item(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [camelize(item) for item in value]
    if isinstance(value, datetime):
        return iso(value)
    return value


def _camelize_item(key: Any, item: Any) -> Any:
    if key in USER_DATA_KEYS:
        return item
    if key in FIELD_NAME_KEYS and isinstance(item, list | tuple):
        return [_camel(name) if isinstance(name, str) else name for name in item]
    return camelize(item)


@lru_cache(maxsize=4096)  # field names repeat in every event; user data keys never get here
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
