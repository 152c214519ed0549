"""The worker's run loop for one RunExecution command: claim, run, record.

A worker may run an attempt only after its claim (the attempt-started event) is stored; a
duplicate or late delivery finds the attempt taken or finished and is dropped. The handler
runs in a host that can always stop it (timeout, cancel, shutdown), and exactly one outcome
is recorded per attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from application.commands import (
    CompleteAttempt,
    ConfirmCancelled,
    FailAttempt,
    ReleaseAttempt,
    StartAttempt,
    TimeOutAttempt,
)
from application.dependencies import Dependencies
from application.errors import ConcurrencyConflict, NotFound, ServiceUnavailable
from application.executions import (
    complete_attempt,
    confirm_cancelled,
    fail_attempt,
    release_attempt,
    start_attempt,
    time_out_attempt,
)
from domain.errors import InvalidTransition
from domain.execution import Execution
from domain.execution_values import ErrorInfo

log = logging.getLogger(__name__)
RECORD_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0, 5.0, 5.0, 10.0)


class StopReason(StrEnum):
    CANCEL = "cancel"
    SHUTDOWN = "shutdown"


@dataclass
class StopSignal:
    """Set when the running handler must stop, with the reason."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    reason: StopReason | None = None

    def stop(self, reason: StopReason) -> None:
        if self.reason is None:
            self.reason = reason
        self.event.set()


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Everything a handler host needs to run one attempt."""

    execution_id: UUID
    attempt: int
    job_id: UUID
    job_name: str
    module_id: str
    handler: str
    config: Mapping[str, Any]
    timeout_ms: int
    event: Mapping[str, Any] | None = None


class HandlerStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed-out"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class HandlerResult:
    status: HandlerStatus
    result: Any = None
    error: ErrorInfo | None = None


class HandlerHost(Protocol):
    """Runs a handler where it can be stopped: enforces the timeout, obeys the stop signal."""

    async def run(self, request: RunRequest, stop: StopSignal) -> HandlerResult: ...


@dataclass
class AttemptRunner:
    deps: Dependencies
    host: HandlerHost
    worker_id: str
    running: dict[UUID, StopSignal] = field(default_factory=dict)

    async def run(self, execution_id: UUID, attempt: int) -> None:
        """Handle one RunExecution command (at-least-once delivery, exactly-once effect)."""
        execution = await self._claim(execution_id, attempt)
        if execution is None:
            return
        if execution.cancel_requested:
            await self._record(confirm_cancelled, ConfirmCancelled(execution_id, attempt))
            return
        stop = self.running[execution_id] = StopSignal()
        try:
            result = await self.host.run(request_for(execution, attempt), stop)
        finally:
            self.running.pop(execution_id, None)
        await self._record_result(execution_id, attempt, result, stop)

    def cancel(self, execution_id: UUID) -> bool:
        """Stop a running handler because its execution was cancelled."""
        signal = self.running.get(execution_id)
        if signal is not None:
            signal.stop(StopReason.CANCEL)
        return signal is not None

    def stop_all(self) -> None:
        """Shutdown: stop every running handler; their attempts are handed back."""
        for signal in self.running.values():
            signal.stop(StopReason.SHUTDOWN)

    async def _claim(self, execution_id: UUID, attempt: int) -> Execution | None:
        try:
            outcome = await start_attempt(
                StartAttempt(execution_id, attempt, self.worker_id), self.deps
            )
        except (InvalidTransition, ConcurrencyConflict, NotFound) as refused:
            log.debug("dropping run %s/%d: %s", execution_id, attempt, refused)
            return None
        return outcome.value

    async def _record_result(
        self, execution_id: UUID, attempt: int, result: HandlerResult, stop: StopSignal
    ) -> None:
        if result.status is HandlerStatus.COMPLETED:
            await self._record(
                complete_attempt, CompleteAttempt(execution_id, attempt, result.result)
            )
        elif result.status is HandlerStatus.FAILED and result.error is not None:
            await self._record(fail_attempt, FailAttempt(execution_id, attempt, result.error))
        elif result.status is HandlerStatus.TIMED_OUT:
            await self._record(time_out_attempt, TimeOutAttempt(execution_id, attempt))
        elif stop.reason is StopReason.SHUTDOWN:
            command = ReleaseAttempt(execution_id, attempt, "worker shutdown")
            await self._record(release_attempt, command)
        else:
            await self._record(confirm_cancelled, ConfirmCancelled(execution_id, attempt))

    async def _record[C](
        self, handler: Callable[[C, Dependencies], Awaitable[object]], command: C
    ) -> None:
        """Record the outcome; keep trying while the store is down (the lease covers us)."""
        for delay in (*RECORD_RETRY_DELAYS, None):
            try:
                await handler(command, self.deps)
                return
            except InvalidTransition as refused:
                log.warning("outcome not recorded (%s): %s", command, refused)
                return
            except ServiceUnavailable as error:
                if delay is None:
                    raise
                log.warning("store unavailable while recording (%s); retrying", error)
                await asyncio.sleep(delay)


def request_for(execution: Execution, attempt: int) -> RunRequest:
    job = execution.job
    return RunRequest(
        execution_id=execution.id,
        attempt=attempt,
        job_id=job.job_id,
        job_name=job.job_name,
        module_id=job.module_id,
        handler=job.handler,
        config=job.config,
        timeout_ms=job.timeout_ms,
        event=execution.event,
    )
