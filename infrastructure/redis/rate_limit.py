"""Per-source rate limit on Redis: a fixed one-second window shared by every API process."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from infrastructure.redis.keys import RedisKeys

WINDOW_TTL = 2  # seconds; a window's counter outlives its second, then Redis drops it


class RedisRateLimiter:
    """Implements interfaces.http.services.RateLimiter with INCR+EXPIRE in one transaction."""

    def __init__(self, redis: Redis, keys: RedisKeys, per_second: int) -> None:
        self._redis = redis
        self._keys = keys
        self._per_second = per_second

    async def retry_after(self, key: str) -> float:
        """0 when `key` may act in this second; else the seconds until the window ends."""
        now = time.time()
        second = int(now)
        counter = self._keys.rate(key, second)
        # MULTI/EXEC: the count and its expiry are set together, so no counter lives for ever.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(counter)
            pipe.expire(counter, WINDOW_TTL)
            count, _ = await pipe.execute()
        if int(count) <= self._per_second:
            return 0.0
        return max(second + 1 - now, 0.001)
