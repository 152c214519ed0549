"""The event bus as modules, handlers and services see it: emit, on, on_pattern, durable groups.

Emitting stores the event first; it reaches subscribers only through the relay, so nothing is
ever seen that is not durable. Subscribers receive an `Event` (the public envelope, typed).
A subscription without a group is live: it follows the stream from now (or from a position),
at most once per process. A subscription with a group is durable: it resumes where it left
off, gets each matching event at least once, in stream order, deduplicated by position, and
parks an event whose handler keeps failing, so that an operator can replay it later.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from application.wire import iso
from domain.errors import InvalidValue

type Handler = Callable[[Event], Awaitable[object] | object]
MAX_SUBSCRIBER_NAME = 100
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


@dataclass(frozen=True, slots=True)
class Event:
    """One envelope from the stream; `position` is the store's order and the dedup key."""

    id: str
    name: str
    source: str
    payload: dict[str, Any]
    created_at: datetime
    position: int

    @classmethod
    def from_envelope(cls, envelope: Mapping[str, Any]) -> Event:
        """The typed form of `{"id","name","source","payload","createdAt","position"}`."""
        return cls(
            id=str(envelope["id"]),
            name=str(envelope["name"]),
            source=str(envelope["source"]),
            payload=dict(envelope.get("payload") or {}),
            created_at=datetime.fromisoformat(str(envelope["createdAt"])),
            position=int(envelope["position"]),
        )

    def envelope(self) -> dict[str, Any]:
        """The public JSON shape again (createdAt in ISO-8601 UTC with a Z)."""
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "payload": self.payload,
            "createdAt": iso(self.created_at),
            "position": self.position,
        }


@dataclass(frozen=True, slots=True)
class Emitted:
    """An event that is stored: its id, and the store position it will have on the stream."""

    id: str
    position: int


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A durable handler that raises is tried again after each delay in turn, then parked."""

    delays: tuple[float, ...] = (0.5, 1.0, 2.0)

    @property
    def attempts(self) -> int:
        return 1 + len(self.delays)


@dataclass(frozen=True, slots=True)
class ParkedDelivery:
    """An event a durable subscriber gave up on, with the last error, kept for replay."""

    entry_id: str
    envelope: dict[str, Any]
    error: str
    attempts: int
    parked_at: str
    stack: str = ""


@dataclass(frozen=True, slots=True)
class SubscriberInfo:
    """A durable subscriber as operators see it (`almanac subscribers list`)."""

    name: str
    handled_position: int
    delivered_position: int
    lag: int
    pending: int
    parked: int
    replaying: int
    active: bool
    parked_deliveries: list[ParkedDelivery] = field(default_factory=list)


class Subscription(Protocol):
    name: str
    group: str | None

    async def close(self) -> None: ...


class EventBus(Protocol):
    async def emit(self, name: str, payload: Mapping[str, Any], source: str) -> Emitted: ...

    def on(
        self, name: str, handler: Handler, *, group: str | None = None, after: int | None = None
    ) -> Subscription: ...

    def on_pattern(
        self, pattern: str, handler: Handler, *, group: str | None = None, after: int | None = None
    ) -> Subscription: ...

    async def ready(self) -> None: ...


class SubscriberAdmin(Protocol):
    async def subscribers(self, name: str | None = None) -> list[SubscriberInfo]: ...

    async def replay(self, name: str, entry_ids: Sequence[str] | None) -> int: ...

    async def delete(self, name: str, *, force: bool = False) -> bool: ...


class SubscriberRunning(Exception):
    """A running subscriber is not deleted unless forced: it would recreate its group at once."""


async def call_handler(handler: Handler, event: Event) -> None:
    """Async handlers are awaited; plain functions run off the event loop, in a thread."""
    if _is_async(handler):
        await handler(event)  # type: ignore[misc]
        return
    result = await asyncio.to_thread(handler, event)
    if inspect.isawaitable(result):
        await result


def _is_async(handler: Handler) -> bool:
    call = getattr(handler, "__call__", None)  # noqa: B004 - async callable objects count too
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


def validate_subscriber_name(name: str, field_name: str = "group") -> str:
    """A durable subscriber's name: 1-100 of lowercase letters, digits, '-', '_' and '.'."""
    if not name or len(name) > MAX_SUBSCRIBER_NAME or not set(name) <= _NAME_CHARACTERS:
        raise InvalidValue(
            field_name,
            f"{name!r} must be 1 to {MAX_SUBSCRIBER_NAME} characters: "
            "lowercase letters, digits, '-', '_' or '.'",
        )
    return name
