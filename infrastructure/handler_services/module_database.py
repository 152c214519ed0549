"""Each module's own Postgres schema and role; `context.services.database` connects as that role.

Module `my-mod` gets schema `mod_my_mod` and role `almanac_mod_my_mod` (LOGIN, a random
password kept in `module_credentials`, which grants nothing to PUBLIC). The role may use and
create objects in its schema and nothing else: Almanac's tables grant nothing to PUBLIC
(migration 0300) and other modules' schemas grant it no USAGE. Creating roles needs a main
role with CREATEROLE (or a superuser). Postgres roles are per server, not per database: two
Almanac databases on one server share a module's role, and the last to provision sets its
password.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from infrastructure.modules.manifest import MODULE_NAME
from infrastructure.postgres.leadership import lock_key

log = logging.getLogger(__name__)
ROLE_PREFIX = "almanac_mod_"
SCHEMA_PREFIX = "mod_"
MAX_IDENTIFIER = 63  # Postgres silently truncates longer names: never let it
SCRAM_ITERATIONS = 4096
Connection = asyncpg.Connection | PoolConnectionProxy


class ModuleDatabaseError(RuntimeError):
    """A module's schema or role cannot be provisioned; the message says why."""


@dataclass(frozen=True, slots=True)
class ModuleNames:
    schema: str
    role: str


def module_names(module_name: str) -> ModuleNames:
    """`-` becomes `_`; a name too long for Postgres is cut and given a hash of the original."""
    if not MODULE_NAME.match(module_name):
        raise ModuleDatabaseError(f"{module_name!r} is not a module name")
    base = module_name.replace("-", "_")
    return ModuleNames(_fit(SCHEMA_PREFIX, base, module_name), _fit(ROLE_PREFIX, base, module_name))


def _fit(prefix: str, base: str, original: str) -> str:
    name = prefix + base
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(original.encode()).hexdigest()[:8]
    return f"{prefix}{base[: MAX_IDENTIFIER - len(prefix) - 9]}_{digest}"


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier Postgres stores: the password itself never reaches the server
    (or its statement log)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    stored = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt).decode()}"
        f"${b64(stored).decode()}:{b64(server).decode()}"
    )


def module_url(database_url: str, names: ModuleNames, password: str) -> str:
    """Almanac's URL with the module's role, password and search_path."""
    parts = urlsplit(database_url)
    server = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(names.role, safe='')}:{quote(password, safe='')}@{server}"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("user", "password", "options")]
    query.append(("options", f"-csearch_path={names.schema}"))
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


async def ensure_module_database(pool: asyncpg.Pool, module_name: str, database_url: str) -> str:
    """Create (or repair) the module's schema, role and grants; returns its connection URL.

    Idempotent and safe to run concurrently; the password is kept once set.
    """
    names = module_names(module_name)
    async with pool.acquire() as connection, connection.transaction():
        key = lock_key(f"module-database:{module_name}")
        await connection.execute("SELECT pg_advisory_xact_lock($1)", key)
        password = await _stored_password(connection, module_name, names)
        role_exists = await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", names.role
        )
        if password is None or not role_exists:
            password = secrets.token_urlsafe(24)
            await _set_role(connection, names.role, password, exists=bool(role_exists))
            await _store_password(connection, module_name, names, password)
        await _grant(connection, names)
    return module_url(database_url, names, password)


async def drop_module_database(pool: asyncpg.Pool, module_name: str) -> None:
    """Drop the module's schema (with its data), grants and credentials, and its role if it
    owns nothing in another database."""
    names = module_names(module_name)
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(f"DROP SCHEMA IF EXISTS {_q(names.schema)} CASCADE")
        await connection.execute(
            "DELETE FROM module_credentials WHERE module_name = $1", module_name
        )
        if await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", names.role):
            await connection.execute(f"DROP OWNED BY {_q(names.role)}")
            try:
                async with connection.transaction():
                    await connection.execute(f"DROP ROLE {_q(names.role)}")
            except asyncpg.DependentObjectsStillExistError:
                log.info("role %s is still used in another database; kept", names.role)


async def _stored_password(
    connection: Connection, module_name: str, names: ModuleNames
) -> str | None:
    owner = await connection.fetchval(
        "SELECT module_name FROM module_credentials WHERE schema_name = $1 OR role_name = $2",
        names.schema,
        names.role,
    )
    if owner is not None and owner != module_name:
        raise ModuleDatabaseError(
            f"modules {owner!r} and {module_name!r} would share schema {names.schema}: rename one"
        )
    password: str | None = await connection.fetchval(
        "SELECT password FROM module_credentials WHERE module_name = $1", module_name
    )
    return password


async def _set_role(connection: Connection, role: str, password: str, *, exists: bool) -> None:
    secret = f"PASSWORD '{scram_verifier(password)}'"  # base64, '$' and ':' only: no quoting
    if exists:
        await connection.execute(f"ALTER ROLE {_q(role)} WITH LOGIN {secret}")
        return
    try:
        async with connection.transaction():
            await connection.execute(
                f"CREATE ROLE {_q(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                f"NOINHERIT NOREPLICATION NOBYPASSRLS {secret}"
            )
    except asyncpg.DuplicateObjectError:  # another database on this server made it just now
        await connection.execute(f"ALTER ROLE {_q(role)} WITH LOGIN {secret}")


async def _store_password(
    connection: Connection, module_name: str, names: ModuleNames, password: str
) -> None:
    await connection.execute(
        """
        INSERT INTO module_credentials (module_name, schema_name, role_name, password)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (module_name) DO UPDATE SET schema_name = EXCLUDED.schema_name,
            role_name = EXCLUDED.role_name, password = EXCLUDED.password, updated_at = now()
        """,
        module_name,
        names.schema,
        names.role,
        password,
    )


async def _grant(connection: Connection, names: ModuleNames) -> None:
    """Its own schema (owned by Almanac, so the module cannot drop it) and nothing more."""
    database = _q(await connection.fetchval("SELECT current_database()"))
    schema, role = _q(names.schema), _q(names.role)
    await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    await connection.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
    await connection.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
    await connection.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}")
    await connection.execute(f"ALTER ROLE {role} IN DATABASE {database} SET search_path = {schema}")


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class ModuleDatabases:
    """The worker's view: each module's URL, provisioned on first use and then cached.

    A module whose database cannot be provisioned gets None (its handlers still run; only
    `services.database` fails, naming the cause in the worker's log); it is retried later.
    """

    def __init__(self, pool: asyncpg.Pool, database_url: str, retry_after: float = 60.0) -> None:
        self._pool = pool
        self._url = database_url
        self._urls: dict[str, str] = {}
        self._failed: dict[str, float] = {}
        self._retry_after = retry_after
        self._lock = asyncio.Lock()

    async def url_for(self, module_id: str) -> str | None:
        if module_id in self._urls or not MODULE_NAME.match(module_id):
            return self._urls.get(module_id)
        async with self._lock:
            failed_at = self._failed.get(module_id)
            if module_id in self._urls or (
                failed_at and time.monotonic() - failed_at < self._retry_after
            ):
                return self._urls.get(module_id)
            try:
                self._urls[module_id] = await ensure_module_database(
                    self._pool, module_id, self._url
                )
            except (asyncpg.PostgresError, OSError, ModuleDatabaseError) as error:
                log.error("cannot provision a database for module %s: %s", module_id, error)
                self._failed[module_id] = time.monotonic()
                return None
        return self._urls[module_id]

    async def prepare(self, module_ids: list[str]) -> None:
        """Provision ahead of time, so `cached` answers without waiting."""
        for module_id in module_ids:
            await self.url_for(module_id)

    def cached(self, module_id: str) -> str | None:
        """For a synchronous caller: the URL if already provisioned, else None."""
        return self._urls.get(module_id)
