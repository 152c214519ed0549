"""`context.services.browser`: Playwright driving a Chromium found on this machine (no download).

Chromium is ALMANAC_CHROMIUM if set, else Playwright's own build if one is installed, else the
system's. Browsers a handler leaves open are closed when its attempt ends (the slot calls
`close_all`). On timeout or cancel the slot's process group is killed with the Playwright
driver in it; Chromium runs in a session of its own but exits as soon as its DevTools pipe to
the dead driver closes. The cap (ALMANAC_MAX_BROWSERS) counts browsers open at once in one
slot, that is in one attempt: a worker has at most JOB_WORKER_CONCURRENCY times that many.
Async handlers only: Playwright's async API lives on the slot's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

# Root in a container without GPU or network: no sandbox, no GPU, no phoning home.
REQUIRED_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
SYSTEM_CHROMIUM = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
INSTALL_HINT = (
    "install one with `apt-get install -y chromium` (or `playwright install chromium` where "
    "downloads work), or set ALMANAC_CHROMIUM to a Chromium or Chrome executable"
)
CLOSE_TIMEOUT = 5.0


class BrowserUnavailable(RuntimeError):
    """No Chromium to launch; the message says how to get one."""


class BrowserLimitReached(RuntimeError):
    """The handler already has ALMANAC_MAX_BROWSERS browsers open."""


def find_chromium(
    configured: str | None,
    bundled: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> str:
    """The configured path, else Playwright's bundled build, else one on PATH."""
    if configured:
        if _runnable(configured):
            return configured
        raise BrowserUnavailable(
            f"ALMANAC_CHROMIUM={configured!r} is not an executable file; {INSTALL_HINT}"
        )
    if bundled and _runnable(bundled):
        return bundled
    for name in SYSTEM_CHROMIUM:
        found = which(name)
        if found:
            return found
    raise BrowserUnavailable(f"no Chromium found: {INSTALL_HINT}")


def _runnable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


class BrowserService:
    """One per slot process: the Playwright driver starts on the first launch and stays up."""

    def __init__(self, chromium_path: str | None = None, max_browsers: int = 2) -> None:
        self._configured = chromium_path
        self._max = max_browsers
        self._playwright: Playwright | None = None
        self._executable: str | None = None
        self._open: set[Browser] = set()
        self._launching = 0

    @property
    def open_browsers(self) -> int:
        return len(self._open)

    async def launch(self, options: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Browser:
        """`launch(headless=True)` or seed-style `launch({"headless": True, "args": [...]})`."""
        settings: dict[str, Any] = {"headless": True, **(options or {}), **kwargs}
        if len(self._open) + self._launching >= self._max:
            raise BrowserLimitReached(
                f"{self._max} browsers are already open in this attempt (ALMANAC_MAX_BROWSERS); "
                "close one or reuse it with new pages"
            )
        self._launching += 1
        try:
            playwright = await self._driver()
            executable = settings.pop("executable_path", None) or self._chromium(playwright)
            extra = [arg for arg in settings.pop("args", ()) if arg not in REQUIRED_ARGS]
            browser = await playwright.chromium.launch(
                executable_path=executable, args=[*REQUIRED_ARGS, *extra], **settings
            )
        finally:
            self._launching -= 1
        self._open.add(browser)
        browser.on("disconnected", self._forget)
        return browser

    async def close_all(self) -> None:
        """End of an attempt: close what the handler left open; stop the driver if one hangs."""
        browsers, self._open = list(self._open), set()
        if not browsers:
            return
        closing = asyncio.gather(*(b.close() for b in browsers), return_exceptions=True)
        try:
            await asyncio.wait_for(closing, CLOSE_TIMEOUT)
        except TimeoutError:
            await self._stop_driver()  # the driver's exit closes the pipes: Chromium exits

    def _forget(self, browser: Browser) -> None:
        self._open.discard(browser)

    async def aclose(self) -> None:
        await self.close_all()
        await self._stop_driver()

    async def _driver(self) -> Playwright:
        if self._playwright is None:
            from playwright.async_api import async_playwright

            self._playwright = await async_playwright().start()
        return self._playwright

    def _chromium(self, playwright: Playwright) -> str:
        if self._executable is None:
            bundled = playwright.chromium.executable_path
            self._executable = find_chromium(self._configured, bundled)
        return self._executable

    async def _stop_driver(self) -> None:
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(playwright.stop(), CLOSE_TIMEOUT)
