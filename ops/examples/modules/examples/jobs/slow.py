"""Sleeps past its timeout, so the worker stops it and records TIMEOUT."""

import asyncio


async def handler(context):
    context.services.logger.info("starting a 30 s nap with a 3 s timeout")
    await asyncio.sleep(30)
    return {"woke_up": True}
