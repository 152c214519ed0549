"""Launches a browser and forgets it: the slot must close it when the attempt ends."""

from chromium_pids import chromium_pids


async def handler(context):
    browser = await context.services.browser.launch()
    page = await browser.new_page()
    await page.goto(context.config["url"])
    return {"pids": chromium_pids(), "text": await page.inner_text(".data")}
