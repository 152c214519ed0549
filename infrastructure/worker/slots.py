"""The worker's side of its handler slots: a pool of child processes, one attempt each.

Stopping a handler (timeout, cancel, shutdown) first asks the child to cancel it; a handler
that does not stop within the grace period is killed with its whole process group (browsers
included) and the slot is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from application.worker import HandlerResult, HandlerStatus, RunRequest, StopSignal
from domain.errors import InvalidValue
from domain.execution_values import ErrorInfo
from infrastructure.worker.protocol import (
    LINE_LIMIT,
    Done,
    Emit,
    EmitReply,
    Log,
    Ready,
    Run,
    Stop,
    ToChild,
    ToParent,
    encode,
    parent_decoder,
)

log = logging.getLogger(__name__)
READY_TIMEOUT = 60.0
STOP_GRACE = 1.0


class HandlerLocator(Protocol):
    """Finds modules and their handler files (the module catalog)."""

    def handler_file(self, module_id: str, handler: str) -> Path: ...

    def module_folder(self, module_id: str) -> Path: ...


LogSink = Callable[[RunRequest, Log], None]
Emitter = Callable[[str, dict[str, Any], str], Awaitable[str]]


class SlotProcess:
    """One child process speaking the slot protocol over its stdin and stdout."""

    def __init__(self, command: Sequence[str]) -> None:
        self._command = list(command)
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT,
            start_new_session=True,  # its own process group: killing it kills its children
        )
        ready = await asyncio.wait_for(self.receive(), READY_TIMEOUT)
        if not isinstance(ready, Ready):
            raise RuntimeError(f"handler slot did not start (got {ready!r})")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def send(self, message: ToChild) -> None:
        if self.process is None or self.process.stdin is None:
            raise RuntimeError("slot is not running")
        self.process.stdin.write(encode(message))
        await self.process.stdin.drain()

    async def receive(self) -> ToParent | None:
        """The next message, or None when the child is gone."""
        if self.process is None or self.process.stdout is None:
            return None
        line = await self.process.stdout.readline()
        return parent_decoder.decode(line) if line else None

    async def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()
        await self._drain()

    async def _drain(self) -> None:
        """Read the pipe to its end so asyncio closes the transport (no leak at exit)."""
        if self.process is not None and self.process.stdout is not None:
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(self.process.stdout.read(), 2)

    async def close(self) -> None:
        """Ask the child to exit (end of input), kill it if it does not."""
        if self.process is None or not self.alive:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 3)
            await self._drain()
        except TimeoutError:
            await self.kill()


@dataclass
class _Watch:
    """State of one supervised attempt."""

    deadline: float
    stopping_until: float | None = None
    timed_out: bool = False


class SlotPool:
    """Implements application.worker.HandlerHost with `size` child processes."""

    def __init__(
        self,
        *,
        size: int,
        command: Sequence[str],
        locator: HandlerLocator,
        log_sink: LogSink,
        emitter: Emitter,
        database_url_for: Callable[[str], Awaitable[str | None]],
        flush_logs: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._size = size
        self._command = command
        self._locator = locator
        self._log_sink = log_sink
        self._emitter = emitter
        self._database_url_for = database_url_for
        self._flush_logs = flush_logs
        self._idle: asyncio.Queue[SlotProcess] = asyncio.Queue()
        self._all: set[SlotProcess] = set()
        self._replacing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await asyncio.gather(*(self._add_slot() for _ in range(self._size)))

    async def close(self) -> None:
        for task in self._replacing:
            task.cancel()
        await asyncio.gather(*self._replacing, return_exceptions=True)
        await asyncio.gather(*(slot.close() for slot in self._all), return_exceptions=True)

    async def run(self, request: RunRequest, stop: StopSignal) -> HandlerResult:
        try:
            handler_file = self._locator.handler_file(request.module_id, request.handler)
        except InvalidValue as error:
            return _failed("HandlerNotFound", str(error))
        database_url = await self._database_url_for(request.module_id)
        slot = await self._idle.get()
        try:
            await slot.send(self._run_message(request, str(handler_file), database_url))
            result = await self._supervise(slot, request, stop)
            if self._flush_logs is not None:
                await self._flush_logs()  # an attempt's log is complete before its outcome
            return result
        finally:
            if slot.alive:
                self._idle.put_nowait(slot)
            else:
                self._all.discard(slot)
                task = asyncio.create_task(self._add_slot())
                self._replacing.add(task)
                task.add_done_callback(self._replacing.discard)

    def _run_message(self, request: RunRequest, handler_file: str, database_url: str | None) -> Run:
        return Run(
            execution_id=str(request.execution_id),
            attempt=request.attempt,
            job_id=str(request.job_id),
            job_name=request.job_name,
            module_id=request.module_id,
            module_dir=str(self._locator.module_folder(request.module_id)),
            handler_file=handler_file,
            config=dict(request.config),
            event=dict(request.event) if request.event is not None else None,
            database_url=database_url,
        )

    async def _supervise(
        self, slot: SlotProcess, request: RunRequest, stop: StopSignal
    ) -> HandlerResult:
        loop = asyncio.get_running_loop()
        watch = _Watch(deadline=loop.time() + request.timeout_ms / 1000)
        stop_waiter = asyncio.create_task(stop.event.wait())
        reader: asyncio.Task[ToParent | None] | None = None
        try:
            while True:
                reader = reader or asyncio.create_task(slot.receive())
                waiting = {reader} if watch.stopping_until else {reader, stop_waiter}
                limit = (watch.stopping_until or watch.deadline) - loop.time()
                done, _ = await asyncio.wait(
                    waiting, timeout=max(0.0, limit), return_when=asyncio.FIRST_COMPLETED
                )
                if reader in done:
                    message, reader = reader.result(), None
                    result = await self._handle(message, request, slot, watch)
                    if result is not None:
                        return result
                elif stop_waiter in done and not watch.stopping_until:
                    await self._ask_to_stop(slot, watch, loop.time())
                elif not watch.stopping_until:
                    watch.timed_out = True
                    await self._ask_to_stop(slot, watch, loop.time())
                else:
                    await slot.kill()  # it ignored the stop: end it, with its children
                    return _stopped(watch)
        finally:
            for task in (stop_waiter, reader):
                if task is not None:
                    task.cancel()

    async def _ask_to_stop(self, slot: SlotProcess, watch: _Watch, now: float) -> None:
        watch.stopping_until = now + STOP_GRACE
        with contextlib.suppress(RuntimeError, ConnectionError):
            await slot.send(Stop())

    async def _handle(
        self, message: ToParent | None, request: RunRequest, slot: SlotProcess, watch: _Watch
    ) -> HandlerResult | None:
        if message is None:
            await slot.kill()
            if watch.stopping_until:
                return _stopped(watch)
            return _failed("HandlerProcessDied", "the handler's process exited unexpectedly")
        if isinstance(message, Log):
            self._log_sink(request, message)
        elif isinstance(message, Emit):
            await self._emit(slot, message, request)
        elif isinstance(message, Done):
            return _result(message, watch)
        return None

    async def _emit(self, slot: SlotProcess, message: Emit, request: RunRequest) -> None:
        try:
            event_id = await self._emitter(
                message.name, message.payload, message.source or request.module_id
            )
            reply = EmitReply(message.request, event_id=event_id)
        except Exception as error:  # the handler gets the reason as an exception
            reply = EmitReply(message.request, error=str(error))
        await slot.send(reply)

    async def _add_slot(self) -> None:
        slot = SlotProcess(self._command)
        self._all.add(slot)  # before starting, so close() also reaps a slot still starting
        await slot.start()
        self._idle.put_nowait(slot)


def _result(done: Done, watch: _Watch) -> HandlerResult:
    if watch.timed_out:
        return HandlerResult(HandlerStatus.TIMED_OUT)
    if done.status == "completed":
        return HandlerResult(HandlerStatus.COMPLETED, result=done.result)
    if done.status == "failed" and done.error is not None:
        error = ErrorInfo(done.error["type"], done.error["message"], done.error.get("stack", ""))
        return HandlerResult(HandlerStatus.FAILED, error=error)
    return HandlerResult(HandlerStatus.STOPPED)


def _stopped(watch: _Watch) -> HandlerResult:
    return HandlerResult(HandlerStatus.TIMED_OUT if watch.timed_out else HandlerStatus.STOPPED)


def _failed(kind: str, message: str) -> HandlerResult:
    return HandlerResult(HandlerStatus.FAILED, error=ErrorInfo(kind, message))
