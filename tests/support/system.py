"""Real Almanac role processes for tests: start, stop gracefully, or kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from infrastructure.settings import Settings

REPO = Path(__file__).resolve().parents[2]
MODULES = (REPO / "tests" / "fixtures" / "modules",)


def role_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a role process reads its settings from."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALMANAC_", "JOB_"))}
    env |= {
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "ALMANAC_REDIS_PREFIX": settings.redis_prefix,
        "MODULES_PATH": ":".join(str(p) for p in settings.modules_path),
        "ALMANAC_LEASE_TIMEOUT": str(settings.lease_timeout_ms),
        "ALMANAC_SHUTDOWN_GRACE": str(settings.shutdown_grace_ms),
        "JOB_WORKER_CONCURRENCY": str(settings.worker_concurrency),
        "ALMANAC_LOG_LEVEL": "WARNING",
        "ALMANAC_DB_POOL_SIZE": "4",
    }
    return env | extra


@dataclass
class Role:
    name: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL the role and everything it started (its handler slots too)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait for a clean exit; kill if it does not come."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.process.returncode


@dataclass
class System:
    """Role processes over one database and one Redis prefix."""

    settings: Settings
    roles: list[Role] = field(default_factory=list)

    def start(self, role: str, **extra_env: str) -> Role:
        process = subprocess.Popen(
            [sys.executable, "-m", "interfaces.cli", role],
            env=role_env(self.settings, **extra_env),
            cwd=REPO,
            start_new_session=True,
        )
        started = Role(role, process)
        self.roles.append(started)
        return started

    def wait_for_heartbeat(self, table: str, *watched: Role, timeout: float = 120) -> None:
        """Until a role has written a recent heartbeat to `table`; fails fast if one of the
        `watched` roles died meanwhile."""
        query = f"SELECT count(*) FROM {table} WHERE last_seen > now() - interval '10 s'"

        def beating() -> bool:
            dead = [role.name for role in watched if role.process.poll() is not None]
            assert not dead, f"roles stopped during start-up: {dead}"
            with psycopg.connect(str(self.settings.database_url)) as connection:
                row = connection.execute(query).fetchone()
            return bool(row and row[0])

        wait_until(beating, timeout=timeout)

    def close(self) -> None:
        for role in reversed(self.roles):
            if role.process.poll() is None:
                with suppress(subprocess.TimeoutExpired):
                    role.stop(timeout=15)


def wait_until[T](check: Callable[[], T], timeout: float = 20, interval: float = 0.05) -> T:
    """Poll until `check` returns something truthy; fail with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value: {value!r})")
        time.sleep(interval)
        value = check()
    return value
