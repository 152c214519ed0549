"""Opens a page in Chromium, reads its title and text, and takes a full-page screenshot."""

import asyncio
from pathlib import Path

MODULE = Path(__file__).resolve().parent.parent
TEXT = "() => (document.querySelector('.data') || document.body).textContent"


async def handler(context):
    url = context.config.get("url") or (MODULE / "page.html").as_uri()
    browser = await context.services.browser.launch(headless=True)
    try:
        page = await browser.new_page(viewport={"width": 800, "height": 600})
        await page.goto(url)
        title = await page.title()
        text = (await page.evaluate(TEXT)).strip()
        png = await page.screenshot(full_page=True)
    finally:
        await browser.close()
    result = {"url": url[:200], "title": title, "text": text, "bytes": len(png)}
    if context.config.get("save", True):
        folder = Path(context.config.get("outputDir") or MODULE / "screenshots")
        path = folder / f"{context.execution_id}.png"
        await asyncio.to_thread(_save, path, png)
        result["saved"] = str(path)
    context.services.logger.info("captured", title=title, bytes=len(png))
    return result


def _save(path, png):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
