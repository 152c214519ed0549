"""The seed's browser example in Python: load a page, extract its data."""


async def handler(context):
    browser = await context.services.browser.launch(headless=True)
    try:
        page = await browser.new_page()
        await page.goto(context.config["url"])
        html = await page.content()
        text = await page.evaluate("() => document.querySelector('.data').textContent")
        return {"title": await page.title(), "text": text, "htmlLength": len(html)}
    finally:
        await browser.close()
