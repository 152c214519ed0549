"""Fetches a URL through the shared HTTP service (timeouts and retries included)."""


async def handler(context):
    url = context.config.get("url", "http://127.0.0.1:8000/healthz")
    response = await context.services.http.get(url, timeout=10)
    context.services.logger.info("fetched", {"url": url, "status": response.status_code})
    return {"url": url, "status": response.status_code, "bytes": len(response.content)}
