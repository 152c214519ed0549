"""`context.services.events`: emit events on the bus (stored first, then relayed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

EmitFunction = Callable[[str, dict[str, Any], str | None], Awaitable[str]]


class HandlerEvents:
    """`await events.emit(name, payload, source=None)`; the module is the default source."""

    def __init__(self, emit: EmitFunction) -> None:
        self._emit = emit

    async def emit(
        self, name: str, payload: Mapping[str, Any] | None = None, source: str | None = None
    ) -> str:
        """Returns the new event's id once it is stored."""
        return await self._emit(name, dict(payload or {}), source)
