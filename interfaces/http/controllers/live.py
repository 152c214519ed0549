"""Server-Sent Events: the event stream and an execution's log lines, resumable.

Per litestar notes §5: resources are opened inside the generators (a yield-dependency would
close before the stream starts), keep-alives carry `data=None` (no spurious browser events),
and a feed's failure ends the stream cleanly instead of tearing the response.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from domain.patterns import validate_pattern
from interfaces.http.controllers.executions import known_execution
from interfaces.http.openapi import errors
from interfaces.http.problems import UNAVAILABLE, FieldError, invalid
from interfaces.http.services import ApiServices

log = logging.getLogger(__name__)
RETRY_MS = 3000
Services = NamedDependency[ApiServices]
Pattern = Annotated[str, QueryParameter(name="pattern", max_length=200, description="e.g. job.**")]
LAST_EVENT_ID = "Last-Event-ID"
LastEventId = Annotated[str | None, HeaderParameter(name=LAST_EVENT_ID)]
After = Annotated[
    int, QueryParameter(name="after", ge=0, le=2**63 - 1, description="seq of the last line seen")
]
_encode = msgspec.json.Encoder().encode
SSE = "text/event-stream: one `data:` per item; `id:` resumes with Last-Event-ID"


class LiveController(Controller):
    tags = ["live"]

    @get("/stream", responses=errors(400, 422), description=SSE)
    async def stream(
        self, services: Services, pattern: Pattern = "**", last_event_id: LastEventId = None
    ) -> ServerSentEvent:
        """Envelopes matching `pattern`, live; `id:` is the position, resumable."""
        validate_pattern(pattern)
        after = _position(last_event_id)
        feed = services.live_events.follow(pattern, after, services.keepalive_seconds)
        return ServerSentEvent(_messages(feed, "event", "position"), retry_duration=RETRY_MS)

    @get("/executions/{execution_id:str}/logs/stream", responses=errors(400, 404, 422))
    async def log_stream(
        self,
        execution_id: FromPath[str],
        services: Services,
        after: After = 0,
        last_event_id: LastEventId = None,
    ) -> ServerSentEvent:
        """Log lines of one execution: the stored ones after `after`, then new ones, live."""
        identifier = await known_execution(services, execution_id)
        start = _position(last_event_id)
        feed = services.live_logs.follow(
            str(identifier), start or after, services.keepalive_seconds
        )
        return ServerSentEvent(_messages(feed, "log", "seq"), retry_duration=RETRY_MS)


async def _messages(
    feed: AsyncIterator[Mapping[str, Any] | None], event: str, id_field: str
) -> AsyncIterator[ServerSentEventMessage]:
    """SSE messages from a feed; None from the feed becomes a keep-alive comment."""
    try:
        async for item in feed:
            if item is None:
                yield ServerSentEventMessage(comment="ping", data=None)
                continue
            yield ServerSentEventMessage(
                data=_encode(item).decode(), event=event, id=str(item.get(id_field, ""))
            )
    except UNAVAILABLE as error:
        # Headers are sent: a problem response is impossible; end, the client reconnects.
        log.warning("live feed ended: %s: %s", type(error).__name__, error)
    finally:
        aclose = getattr(feed, "aclose", None)
        if aclose is not None:
            await _shielded(aclose)


async def _shielded(close: Any) -> None:
    with anyio.CancelScope(shield=True):
        await close()


def _position(raw: str | None) -> int | None:
    """The position a Last-Event-ID header names, or None when there is none."""
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid([FieldError(LAST_EVENT_ID, "must be a position (a whole number)")]) from None
    if value < 0:
        raise invalid([FieldError(LAST_EVENT_ID, "must not be negative")])
    return value
