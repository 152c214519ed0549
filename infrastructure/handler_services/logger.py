"""`context.services.logger`: structured log lines stored with the execution and streamed live.

Both spellings work: `logger.info("Processing item", {"itemId": "123"})` as in the seed, and
`logger.info("Processing item", item_id="123")`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

LogSink = Callable[[str, str, dict[str, Any], float], None]
MAX_MESSAGE = 16_384


class HandlerLogger:
    def __init__(self, sink: LogSink) -> None:
        self._sink = sink

    def debug(self, message: object, fields: Mapping[str, Any] | None = None, **kw: Any) -> None:
        self._log("debug", message, fields, kw)

    def info(self, message: object, fields: Mapping[str, Any] | None = None, **kw: Any) -> None:
        self._log("info", message, fields, kw)

    def warning(self, message: object, fields: Mapping[str, Any] | None = None, **kw: Any) -> None:
        self._log("warning", message, fields, kw)

    warn = warning

    def error(self, message: object, fields: Mapping[str, Any] | None = None, **kw: Any) -> None:
        self._log("error", message, fields, kw)

    def _log(
        self, level: str, message: object, fields: Mapping[str, Any] | None, kw: dict[str, Any]
    ) -> None:
        merged = {**(fields or {}), **kw}
        self._sink(level, str(message)[:MAX_MESSAGE], merged, time.time())


class OutputToLog:
    """A file-like stand-in for stdout/stderr: each printed line becomes a log line."""

    def __init__(self, sink: LogSink, level: str) -> None:
        self._sink = sink
        self._level = level
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if line.strip():
                self._sink(self._level, line[:MAX_MESSAGE], {"stream": "print"}, time.time())
        return len(text)

    def flush(self) -> None:
        if self._buffer.strip():
            self._sink(self._level, self._buffer[:MAX_MESSAGE], {"stream": "print"}, time.time())
        self._buffer = ""

    def isatty(self) -> bool:
        return False
