"""The ceiling: a bare taskiq stream worker running noop tasks (one Redis INCR each).

Loaded by `taskiq worker` from the benchmark; the queue name comes from the environment so
runs never share a stream.
"""

import os
import time

from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE = os.environ.get("BENCH_QUEUE", "bench:baseline")
broker = RedisStreamBroker(URL, queue_name=QUEUE, consumer_group_name=QUEUE + ":group")
_redis = Redis.from_url(URL)


@broker.task(task_name="bench.noop")
async def noop(total: int) -> None:
    """Counts itself; the first and last record the time, so startup is not measured."""
    done = await _redis.incr(QUEUE + ":done")
    if done == 1:
        await _redis.set(QUEUE + ":first", time.time())
    if done == total:
        await _redis.set(QUEUE + ":last", time.time())
