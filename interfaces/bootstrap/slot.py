"""Entry point of a handler slot process (`python -m interfaces.bootstrap.slot`).

Beyond the child's own logger, events, http and database, each attempt gets
`services.browser` (one Playwright driver per slot; browsers the handler leaves open are closed
when its attempt ends) and `services.notifications` (events from the module, with the
execution's id). Settings come from the environment the worker passes down, read once per slot
on first use, so a bad value fails the attempt with a line naming the variable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx

from infrastructure.handler_services.browser import BrowserService
from infrastructure.handler_services.events import HandlerEvents
from infrastructure.handler_services.notifications import NotificationService
from infrastructure.settings import Settings
from infrastructure.worker.child import run_child
from infrastructure.worker.protocol import Run


class SlotServices:
    """What one slot process shares across its attempts: settings, browsers, an HTTP client."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._browser: BrowserService | None = None
        self._client: httpx.AsyncClient | None = None

    def extra_services(self, run: Run, events: HandlerEvents) -> dict[str, Any]:
        """`browser` and `notifications` for one attempt."""
        if self._settings is None:
            self._settings = Settings.from_env()
        settings = self._settings
        if self._browser is None:
            self._browser = BrowserService(settings.chromium_path, settings.max_browsers)
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=15.0)
        notifications = NotificationService(
            settings,
            events,
            self._client,
            source=run.module_id,
            origin={"executionId": run.execution_id, "jobId": run.job_id},
        )
        return {"browser": self._browser, "notifications": notifications}

    async def end_attempt(self) -> None:
        """After the handler returned, raised or was cancelled: close its browsers."""
        if self._browser is not None:
            await self._browser.close_all()

    async def aclose(self) -> None:
        if self._browser is not None:
            await self._browser.aclose()
        if self._client is not None:
            await self._client.aclose()


async def _serve(services: SlotServices) -> None:
    try:
        await run_child(services.extra_services, services.end_attempt)
    finally:
        await services.aclose()


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(SlotServices()))


if __name__ == "__main__":
    main()
