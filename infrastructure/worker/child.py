"""A handler slot: a child process that runs one attempt at a time for its worker.

It is killable as a whole (its own process group), which is what makes timeouts and
cancellation hard guarantees: a handler that ignores cancellation, loops forever in sync
code or leaves a browser open is stopped by killing the slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, BinaryIO

import msgspec

from infrastructure.handler_services.database import DatabaseService
from infrastructure.handler_services.events import HandlerEvents
from infrastructure.handler_services.http import HttpService
from infrastructure.handler_services.logger import HandlerLogger, OutputToLog
from infrastructure.worker.context import JobContext, Services
from infrastructure.worker.loader import load_handler
from infrastructure.worker.protocol import (
    LINE_LIMIT,
    Done,
    Emit,
    EmitReply,
    Log,
    Ready,
    Run,
    Stop,
    ToParent,
    child_decoder,
    encode,
)

_result_encoder = msgspec.json.Encoder()


ExtraServices = Callable[[Run, HandlerEvents], dict[str, Any]]
EndAttempt = Callable[[], Awaitable[None]]


class Slot:
    """The child's side of the protocol: reads commands, runs handlers, reports back."""

    def __init__(
        self, out: BinaryIO, extra_services: ExtraServices, end_attempt: EndAttempt | None = None
    ) -> None:
        self._out = out
        self._extra = extra_services
        self._end_attempt = end_attempt
        self._task: asyncio.Task[Done] | None = None
        self._emits: dict[int, asyncio.Future[EmitReply]] = {}
        self._next_request = 0
        self._http = HttpService()
        self._databases: dict[str, DatabaseService] = {}
        self._lock = threading.Lock()

    def send(self, message: ToParent) -> None:
        """Whole lines only, also when a sync handler logs from its thread."""
        data = encode(message)
        with self._lock:
            self._out.write(data)

    async def serve(self, reader: asyncio.StreamReader) -> None:
        self.send(Ready(os.getpid()))
        while line := await reader.readline():
            message = child_decoder.decode(line)
            if isinstance(message, Run):
                self._task = asyncio.create_task(self._attempt(message))
                self._task.add_done_callback(lambda done: self.send(done.result()))
            elif isinstance(message, Stop) and self._task is not None:
                self._task.cancel()
            elif isinstance(message, EmitReply):
                future = self._emits.pop(message.request, None)
                if future is not None and not future.done():
                    future.set_result(message)

    async def _attempt(self, run: Run) -> Done:
        try:
            handler = load_handler(run.handler_file, run.module_dir)
            context = self._context(run)
            with _output_to(context.services.logger):
                result = await _call(handler, context)
            return Done("completed", result=_jsonable(result))
        except asyncio.CancelledError:
            return Done("stopped")
        except Exception as error:  # any handler failure is data for the attempt's record
            return Done("failed", error=_error_info(error))
        finally:
            if self._end_attempt is not None:
                await self._end_attempt()  # e.g. browsers left open are closed before Done

    def _context(self, run: Run) -> JobContext:
        logger = HandlerLogger(self._log)
        events = HandlerEvents(self._emit)
        services = Services(
            logger=logger,
            events=events,
            http=self._http,
            database=self._database(run.database_url),
            config=run.config,
            **self._extra(run, events),
        )
        return JobContext(
            job_id=run.job_id,
            execution_id=run.execution_id,
            attempt=run.attempt,
            config=run.config,
            services=services,
            job_name=run.job_name,
            module_id=run.module_id,
            event=run.event,
        )

    def _log(self, level: str, message: str, fields: dict[str, Any], at: float) -> None:
        self.send(Log(level=level, message=message, at=at, fields=_jsonable_fields(fields)))

    async def _emit(self, name: str, payload: dict[str, Any], source: str | None) -> str:
        self._next_request += 1
        future: asyncio.Future[EmitReply] = asyncio.get_running_loop().create_future()
        self._emits[self._next_request] = future
        self.send(Emit(self._next_request, name, payload, source))
        reply = await future
        if reply.error is not None or reply.event_id is None:
            raise ValueError(reply.error or "the event was not stored")
        return reply.event_id

    def _database(self, url: str | None) -> DatabaseService:
        key = url or ""
        if key not in self._databases:
            self._databases[key] = DatabaseService(url)
        return self._databases[key]


async def _call(handler: Callable[..., Any], context: JobContext) -> Any:
    """Async handlers run on the loop; plain functions in a thread (the slot is killable)."""
    if inspect.iscoroutinefunction(handler):
        return await handler(context)
    result = await asyncio.to_thread(handler, context)
    if inspect.isawaitable(result):
        return await result
    return result


def _jsonable(value: Any) -> Any:
    """A result must be JSON: anything else fails the attempt with a clear error."""
    try:
        return msgspec.json.decode(_result_encoder.encode(value))
    except (TypeError, msgspec.EncodeError, OverflowError) as error:
        raise TypeError(f"the handler's result is not JSON-serialisable: {error}") from None


def _jsonable_fields(fields: dict[str, Any]) -> dict[str, Any]:
    try:
        return _jsonable(fields) if fields else {}
    except TypeError:
        return {key: repr(value) for key, value in fields.items()}


def _error_info(error: BaseException) -> dict[str, str]:
    """Builtins and the handler's own classes by name; library errors with their module."""
    kind = type(error)
    module = kind.__module__
    plain = module == "builtins" or module.startswith("almanac_handler_")
    name = kind.__qualname__ if plain else f"{module}.{kind.__qualname__}"
    stack = "".join(traceback.format_exception(error))
    return {"type": name, "message": str(error), "stack": stack}


@contextlib.contextmanager
def _output_to(logger: HandlerLogger) -> Any:
    """print() inside a handler becomes log lines of its execution."""
    previous = sys.stdout, sys.stderr
    out = OutputToLog(lambda *a: logger.info(a[1], a[2]), "info")
    err = OutputToLog(lambda *a: logger.error(a[1], a[2]), "error")
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr = previous


async def run_child(extra_services: ExtraServices, end_attempt: EndAttempt | None = None) -> None:
    """Child main: the protocol owns the original stdout; stray writes go to stderr."""
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    await Slot(protocol_out, extra_services, end_attempt).serve(reader)
