"""Per-source rate limit on Redis: a fixed one-second window shared by every API process."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from infrastructure.redis.keys import RedisKeys

WINDOW_TTL = 2  # seconds; a window's counter outlives its second, then Redis drops it
MAX_REMEMBERED = 10_000  # sources remembered as spent; older seconds are forgotten first


class RedisRateLimiter:
    """Implements interfaces.http.services.RateLimiter with INCR+EXPIRE in one transaction."""

    def __init__(self, redis: Redis, keys: RedisKeys, per_second: int) -> None:
        self._redis = redis
        self._keys = keys
        self._per_second = per_second
        # key -> a second whose budget this process saw spent. A spent window stays spent, so
        # the rest of a flood in that second is answered without asking Redis: the answer
        # is the same, and rejecting costs no round trip.
        self._spent: dict[str, int] = {}

    async def retry_after(self, key: str) -> float:
        """0 when `key` may act in this second; else the seconds until the window ends."""
        now = time.time()
        second = int(now)
        if self._spent.get(key) == second or await self._count(key, second) > self._per_second:
            self._remember_spent(key, second)
            return max(second + 1 - now, 0.001)
        return 0.0

    async def _count(self, key: str, second: int) -> int:
        counter = self._keys.rate(key, second)
        # MULTI/EXEC: the count and its expiry are set together, so no counter lives for ever.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(counter)
            pipe.expire(counter, WINDOW_TTL)
            count, _ = await pipe.execute()
        return int(count)

    def _remember_spent(self, key: str, second: int) -> None:
        if len(self._spent) >= MAX_REMEMBERED:
            self._spent = {k: s for k, s in self._spent.items() if s == second}
        self._spent[key] = second
