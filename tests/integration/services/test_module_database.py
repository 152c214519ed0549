"""Module databases: a schema and role per module; a handler can use its schema and nothing else."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from uuid import uuid4

import asyncpg
import psycopg
import pytest

from application.worker import HandlerStatus
from infrastructure.handler_services.module_database import (
    ModuleDatabaseError,
    ModuleDatabases,
    drop_module_database,
    ensure_module_database,
    module_names,
    scram_verifier,
)
from tests.integration.services.conftest import MODULES, slots


@pytest.fixture
async def fresh_module(pool: asyncpg.Pool) -> AsyncIterator[Callable[[str], str]]:
    """Fresh module names (roles are per server), dropped with their role afterwards."""
    made: list[str] = []

    def make(prefix: str) -> str:
        made.append(f"{prefix}{uuid4().hex[:8]}")
        return made[-1]

    yield make
    for name in made:
        await drop_module_database(pool, name)


async def test_a_handler_uses_its_own_schema_and_is_denied_the_rest(
    pool: asyncpg.Pool, database_url: str, fresh_module: Callable[[str], str]
) -> None:
    module, other = fresh_module("svc-db-"), fresh_module("svc-other-")
    url = await ensure_module_database(pool, module, database_url)
    assert await ensure_module_database(pool, module, database_url) == url
    other_connection = await asyncpg.connect(
        await ensure_module_database(pool, other, database_url)
    )
    await other_connection.execute("CREATE TABLE secrets (value text)")
    await other_connection.close()
    forbidden = {
        "events": "SELECT * FROM public.almanac_events LIMIT 1",
        "events_write": "DELETE FROM public.almanac_events",
        "read_model": "SELECT * FROM public.rm_executions LIMIT 1",
        "logs": "SELECT * FROM public.execution_logs LIMIT 1",
        "credentials": "SELECT password FROM public.module_credentials",
        "other_module": f"SELECT * FROM {module_names(other).schema}.secrets",
        "public_schema": "CREATE TABLE public.intruder (x int)",
    }
    urls = {module: url}

    async def url_for(module_id: str) -> str | None:
        return urls.get(module_id)

    async with slots(MODULES / "svc", database_url_for=url_for) as runner:
        for note in ("first", "second"):
            config = {"note": note, "forbidden": forbidden}
            result = await runner.run("jobs/database.py", config, module_id=module)
            assert result.status is HandlerStatus.COMPLETED, result.error
    names = module_names(module)
    assert result.result["notes"] == ["first", "second"]
    assert (result.result["schema"], result.result["role"]) == (names.schema, names.role)
    for what, error in result.result["denied"].items():
        assert error is not None, f"{what} was allowed"
        assert error.startswith("InsufficientPrivilegeError: permission denied"), (what, error)
    owner = await pool.fetchval(
        "SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'notes'",
        names.schema,
    )
    assert owner == names.role


async def test_names_that_would_share_a_schema_are_refused(
    pool: asyncpg.Pool, database_url: str, fresh_module: Callable[[str], str]
) -> None:
    dashed = fresh_module("svc-clash-")
    await ensure_module_database(pool, dashed, database_url)
    with pytest.raises(ModuleDatabaseError, match="would share schema"):
        await ensure_module_database(pool, dashed.replace("-", "_"), database_url)


async def test_the_worker_cache_provisions_once_and_skips_non_modules(
    pool: asyncpg.Pool, database_url: str, fresh_module: Callable[[str], str]
) -> None:
    module = fresh_module("svc-cache-")
    databases = ModuleDatabases(pool, database_url)
    assert databases.cached(module) is None
    url = await databases.url_for(module)
    assert url is not None
    assert await databases.url_for(module) == url == databases.cached(module)
    assert await databases.url_for("Not A Module") is None
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("SHOW search_path") == module_names(module).schema
        assert await connection.fetchval("SELECT current_user") == module_names(module).role
    finally:
        await connection.close()


def test_the_password_verifier_is_the_one_postgres_computes(database_url: str) -> None:
    with psycopg.connect(database_url) as connection:
        theirs = connection.pgconn.encrypt_password(b"pw-123", b"someone", b"scram-sha-256")
    iterations_salt = theirs.decode().split("$")[1]
    salt = base64.b64decode(iterations_salt.split(":")[1])
    assert scram_verifier("pw-123", salt) == theirs.decode()
