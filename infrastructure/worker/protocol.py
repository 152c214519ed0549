"""Messages between a worker and its handler slots: one JSON object per line.

Parent → child: Run (one attempt), Stop (cancel it), EmitReply (answer to Emit).
Child → parent: Ready, Log (a log line), Emit (publish an event), Done (the attempt's end).
"""

from __future__ import annotations

from typing import Any

import msgspec

LINE_LIMIT = 64 * 1024 * 1024  # bytes: the longest line either side reads


class Run(msgspec.Struct, tag="run"):
    execution_id: str
    attempt: int
    job_id: str
    job_name: str
    module_id: str
    module_dir: str
    handler_file: str
    config: dict[str, Any]
    event: dict[str, Any] | None = None
    database_url: str | None = None


class Stop(msgspec.Struct, tag="stop"):
    pass


class EmitReply(msgspec.Struct, tag="emit-reply"):
    request: int
    event_id: str | None = None
    error: str | None = None


class Ready(msgspec.Struct, tag="ready"):
    pid: int


class Log(msgspec.Struct, tag="log"):
    level: str
    message: str
    at: float
    fields: dict[str, Any] = {}


class Emit(msgspec.Struct, tag="emit"):
    request: int
    name: str
    payload: dict[str, Any]
    source: str | None = None


class Done(msgspec.Struct, tag="done"):
    """status: completed, failed or stopped (after a Stop)."""

    status: str
    result: Any = None
    error: dict[str, str] | None = None


ToChild = Run | Stop | EmitReply
ToParent = Ready | Log | Emit | Done

_encoder = msgspec.json.Encoder()
child_decoder = msgspec.json.Decoder(ToChild)
parent_decoder = msgspec.json.Decoder(ToParent)


def encode(message: ToChild | ToParent) -> bytes:
    return _encoder.encode(message) + b"\n"
