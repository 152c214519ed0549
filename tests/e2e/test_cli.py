"""The almanac command as a user runs it: bad settings, and the whole system with `up`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.network import free_port
from tests.support.system import REPO, wait_until

NOWHERE = "postgresql://postgres@127.0.0.1:1/nowhere"


def almanac(*args: str, env: dict[str, str], **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli", *args],
        env=env,
        cwd=kwargs.pop("cwd", REPO),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("JOB_WORKER_CONCURRENCY", "abc"), ("REDIS_PORT", "99999"), ("DATABASE_URL", "mysql://x")],
)
def test_a_bad_setting_stops_with_one_line_naming_it_and_exit_code_2(
    variable: str, value: str
) -> None:
    # A server that is not there: were the bad value ever let through, `migrate` would fail
    # to connect rather than touch a real database.
    env = dict(os.environ, DATABASE_URL=NOWHERE) | {variable: value}

    process = almanac("migrate", env=env)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert variable in lines[0]
    assert "Traceback" not in stderr


def test_up_on_an_empty_data_dir_serves_health_stops_cleanly_and_keeps_its_data() -> None:
    """The newcomer's path: no servers configured, so Almanac starts its own."""
    folder = Path(tempfile_dir())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "ALMANAC_PORT": str(port),
        "MODULES_PATH": str(REPO / "ops/examples/modules"),
        "ALMANAC_DATA_DIR": str(folder / "data"),
    }
    try:
        first = _up(env, port)
        jobs = httpx.get(f"http://127.0.0.1:{port}/api/v1/jobs", timeout=10).json()["items"]
        _interrupt(first)
        assert _servers_of(folder) == []
        second = _up(env, port)
        again = httpx.get(f"http://127.0.0.1:{port}/api/v1/jobs", timeout=10).json()["items"]
        _interrupt(second)
    finally:
        for process in _servers_of(folder):
            process.kill()
    assert {job["id"] for job in again} == {job["id"] for job in jobs} != set()


def _up(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    process = almanac("up", env=env, start_new_session=True)
    wait_until(lambda: _healthy(port), timeout=90, interval=0.5)
    return process


def _interrupt(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a terminal would send it."""
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 0


def _healthy(port: int) -> bool:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json()["status"] == "ok"


def _servers_of(folder: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        with_name = process.info["name"] in ("postgres", "redis-server")
        if with_name and str(folder) in " ".join(process.info["cmdline"] or ()):
            found.append(process)
        elif with_name:
            try:
                if str(folder) in process.cwd():
                    found.append(process)
            except psutil.Error:
                continue
    return found


def tempfile_dir() -> str:
    import tempfile

    folder = tempfile.mkdtemp(prefix="almanac-up-")
    os.chmod(folder, 0o755)  # noqa: S103 - the embedded PostgreSQL runs as its own user
    return folder
