"""Shapes shared by every resource: pages of items and audit history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class HistoryEntryResponse(msgspec.Struct, rename="camel"):
    """One stored event of an aggregate: what happened, when, by whom, what changed."""

    type: str
    at: datetime
    actor: str | None
    version: int | None
    data: dict[str, Any]


class HistoryResponse(msgspec.Struct, rename="camel"):
    items: list[HistoryEntryResponse]


class DeletedResponse(msgspec.Struct, rename="camel"):
    deleted: int
