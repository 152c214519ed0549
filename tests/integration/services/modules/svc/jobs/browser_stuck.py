"""Opens a browser, says which processes it runs in, then never finishes."""

import asyncio

from chromium_pids import chromium_pids


async def handler(context):
    browser = await context.services.browser.launch()
    await browser.new_page()
    context.logger.info("browser up", pids=chromium_pids())
    if context.config.get("mode") == "spin":
        while True:  # blocks the loop: only killing the slot stops it
            pass
    await asyncio.sleep(3600)
