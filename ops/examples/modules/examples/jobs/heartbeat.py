"""Runs every 10 seconds: a log line and a small result."""

from datetime import UTC, datetime


async def handler(context):
    now = datetime.now(UTC).isoformat(timespec="seconds")
    context.services.logger.info("heartbeat", {"at": now, "attempt": context.attempt})
    return {"alive": True, "at": now}
