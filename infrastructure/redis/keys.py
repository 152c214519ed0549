"""Every Redis key Almanac uses, under one configurable prefix (ALMANAC_REDIS_PREFIX).

The stream `events` holds one entry per store event, with the explicit id `<position>-0` and
one field, `envelope`, holding the JSON envelope; re-sending an entry is rejected by Redis,
so the relay can never publish an event twice.
"""

from __future__ import annotations

from dataclasses import dataclass

ENVELOPE_FIELD = "envelope"


@dataclass(frozen=True, slots=True)
class RedisKeys:
    prefix: str = "almanac"

    @property
    def events(self) -> str:
        return f"{self.prefix}:events"

    @property
    def tasks(self) -> str:
        """The taskiq stream carrying RunExecution commands to workers."""
        return f"{self.prefix}:tasks"

    @property
    def task_group(self) -> str:
        return f"{self.prefix}:workers"

    @property
    def control(self) -> str:
        """Cancel requests for running attempts, fanned out to every worker."""
        return f"{self.prefix}:control"

    def epoch(self, owner: str) -> str:
        """A marker that disappears when Redis loses its data (failover, restart without AOF)."""
        return f"{self.prefix}:epoch:{owner}"

    def logs(self, execution_id: str) -> str:
        """Pub/sub channel announcing new log lines of one execution."""
        return f"{self.prefix}:logs:{execution_id}"

    def rate(self, source: str, second: int) -> str:
        return f"{self.prefix}:rate:{source}:{second}"

    def subscriber_group(self, name: str) -> str:
        return f"{self.prefix}:subscriber:{name}"

    def parked(self, name: str) -> str:
        return f"{self.prefix}:parked:{name}"
