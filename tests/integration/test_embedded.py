"""Embedded Postgres and Redis as real processes: data survives restarts and crashes, and
`stop()` leaves no process behind."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

from infrastructure.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedServerError


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A directory outside pytest's temporary root, whose mode other xdist workers reset;
    the embedded PostgreSQL runs as another user who must be able to traverse it."""
    with tempfile.TemporaryDirectory(prefix="almanac-embedded-") as folder:
        path = Path(folder)
        path.chmod(0o755)
        yield path


def servers_on(directory: Path, name: str) -> list[psutil.Process]:
    """Live `name` processes whose command line mentions `directory` or that work in it."""
    directory = directory.resolve()
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] != name:
            continue
        try:
            if str(directory) in " ".join(process.info["cmdline"] or ()) or (
                Path(process.cwd()) == directory
            ):
                found.append(process)
        except psutil.Error:
            continue
    return found


def test_postgres_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "postgres"
    first = EmbeddedPostgres(data, database="kept")
    url = first.start()
    assert first.start() == url  # idempotent
    assert url.startswith("postgresql://postgres@127.0.0.1:")
    assert url.endswith("/kept")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE note (body text)")
        connection.execute("INSERT INTO note VALUES ('first run')")
    first.stop()
    first.stop()  # idempotent
    assert servers_on(data, "postgres") == []

    with EmbeddedPostgres(data, database="kept") as second, psycopg.connect(second.url) as conn:
        assert conn.execute("SELECT body FROM note").fetchall() == [("first run",)]
    assert servers_on(data, "postgres") == []


def test_redis_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    first = EmbeddedRedis(data)
    url = first.start()
    assert first.start() == url
    assert url.startswith("redis://127.0.0.1:")
    assert url.endswith("/0")
    with redis.Redis.from_url(url) as client:
        client.set("greeting", "hello")
    first.stop()
    first.stop()
    assert servers_on(data, "redis-server") == []

    with EmbeddedRedis(data) as second, redis.Redis.from_url(second.url) as client:
        assert client.get("greeting") == b"hello"
    assert servers_on(data, "redis-server") == []


def test_postgres_starts_after_its_server_was_killed(tmp_path: Path) -> None:
    data = tmp_path / "postgres"
    crashed = EmbeddedPostgres(data)
    with psycopg.connect(crashed.start(), autocommit=True) as connection:
        connection.execute("CREATE TABLE note AS SELECT 'committed' AS body")
    assert crashed.pid is not None
    os.kill(crashed.pid, signal.SIGKILL)

    with EmbeddedPostgres(data) as again:
        crashed.stop()  # a stale handle must leave the successor alone
        with psycopg.connect(again.url) as connection:
            assert connection.execute("SELECT body FROM note").fetchall() == [("committed",)]
    assert servers_on(data, "postgres") == []


def test_postgres_replaces_a_server_a_crashed_run_left_running(tmp_path: Path) -> None:
    data = tmp_path / "postgres"
    abandoned = EmbeddedPostgres(data)
    abandoned.start()  # never stopped, as if our process had been killed
    with EmbeddedPostgres(data) as again, psycopg.connect(again.url) as connection:
        assert again.pid != abandoned.pid
        assert connection.execute("SELECT 1").fetchone() == (1,)
    assert servers_on(data, "postgres") == []


def test_redis_starts_after_its_server_was_killed(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    crashed = EmbeddedRedis(data)
    crashed.start()
    assert crashed.pid is not None
    os.kill(crashed.pid, signal.SIGKILL)

    with EmbeddedRedis(data) as again, redis.Redis.from_url(again.url) as client:
        crashed.stop()  # reaps the dead child, leaves the successor alone
        assert client.ping()
        assert (data / "redis.pid").exists()
    assert servers_on(data, "redis-server") == []


def test_postgres_with_a_path_too_long_for_a_unix_socket(tmp_path: Path) -> None:
    data = tmp_path / ("deep" * 30) / "postgres"
    with EmbeddedPostgres(data) as server, psycopg.connect(server.url) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
    assert servers_on(data, "postgres") == []


def test_a_failed_start_names_the_log_and_leaves_nothing_running(tmp_path: Path) -> None:
    data = tmp_path / "postgres"
    with EmbeddedPostgres(data):
        EmbeddedPostgres(data).stop()  # a handle that never started stops nothing
    (data / "PG_VERSION").write_text("7\n")  # a cluster this server cannot read
    broken = EmbeddedPostgres(data)
    with pytest.raises(EmbeddedServerError, match=r"postgres\.log"):
        broken.start()
    assert servers_on(data, "postgres") == []
