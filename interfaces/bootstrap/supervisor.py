"""`almanac up`: one process per role, restarted if it dies, stopped in order on exit."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)
ROLES = ("projector", "scheduler", "worker", "api")
RESTART_BACKOFF = (1.0, 2.0, 5.0, 10.0)


@dataclass
class _Child:
    role: str
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    restarts: int = 0


class Supervisor:
    """Starts each role as `python -m interfaces.cli <role>` with the given environment."""

    def __init__(self, env: Mapping[str, str], grace_seconds: float) -> None:
        self._env = dict(env)
        self._grace = grace_seconds
        self._children: dict[str, _Child] = {}
        self._stopping = False

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for role in ROLES:
                self._start(role)
            while not self._stopping:
                self._restart_the_dead()
                time.sleep(0.2)
            return 0
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        self._stopping = True

    def _start(self, role: str, restarts: int = 0) -> None:
        command = [sys.executable, "-m", "interfaces.cli", role]
        # Own session: a terminal's Ctrl-C reaches only us, and we stop roles in order.
        process = subprocess.Popen(command, env=self._env, start_new_session=True)  # noqa: S603
        self._children[role] = _Child(role, process, restarts=restarts)
        log.info("started %s (pid %d)", role, process.pid)

    def _restart_the_dead(self) -> None:
        for role, child in list(self._children.items()):
            code = child.process.poll()
            if code is None:
                continue
            delay = RESTART_BACKOFF[min(child.restarts, len(RESTART_BACKOFF) - 1)]
            log.error("%s exited with %s; restarting in %.0f s", role, code, delay)
            time.sleep(delay)
            if not self._stopping:
                self._start(role, child.restarts + 1)

    def _stop_all(self) -> None:
        """Workers and the API first (they hand work back), the projector last."""
        for role in reversed(ROLES):
            child = self._children.get(role)
            if child and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._grace + 5
        for child in self._children.values():
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", child.role)
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
