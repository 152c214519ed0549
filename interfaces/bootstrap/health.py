"""Health of the backing services, for /healthz and start-up checks."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import asyncpg
from redis.asyncio import Redis

TIMEOUT = 2.0


class BackingServicesHealth:
    """Implements interfaces.http.services.HealthCheck."""

    def __init__(self, pool: asyncpg.Pool, redis: Redis) -> None:
        self._pool = pool
        self._redis = redis

    async def check(self) -> Mapping[str, str]:
        postgres, redis = await asyncio.gather(self._postgres(), self._redis_ping())
        return {"postgres": postgres, "redis": redis}

    async def _postgres(self) -> str:
        try:
            await asyncio.wait_for(self._pool.fetchval("SELECT 1"), TIMEOUT)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            return f"down: {type(error).__name__}"
        return "ok"

    async def _redis_ping(self) -> str:
        try:
            await asyncio.wait_for(self._redis.ping(), TIMEOUT)
        except (OSError, TimeoutError, ConnectionError) as error:
            return f"down: {type(error).__name__}"
        except Exception as error:  # redis-py raises its own error tree
            return f"down: {type(error).__name__}"
        return "ok"
