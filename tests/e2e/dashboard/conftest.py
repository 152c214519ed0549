"""The whole system (API + dashboard, projector, scheduler, worker) and a real Chromium."""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from infrastructure.settings import Settings
from tests.support.apps import api_app, live_app
from tests.support.databases import own_settings
from tests.support.system import REPO, System
from web.plugin import dashboard_plugin

CHROMIUM = os.environ.get("ALMANAC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = REPO / "docs" / "screenshots"
SCRATCH = Path(tempfile.gettempdir()) / "almanac-dashboard-screenshots"
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
MODULE = "engine"
WORKERS = 3  # handler slots of the one worker process
EXPECTED_4XX = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


@pytest.fixture(scope="package")
def system_settings(
    servers: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with own_settings(
        servers,
        tmp_path_factory.mktemp("dashboard"),
        "web",
        lease_timeout_ms=5000,
        shutdown_grace_ms=1000,
        worker_concurrency=WORKERS,
    ) as settings:
        yield settings


@pytest.fixture(scope="package")
def base_url(system_settings: Settings) -> Iterator[str]:
    """The dashboard's address once every role runs; everything stops after the session."""
    system = System(system_settings)
    roles = [system.start(name) for name in ("projector", "scheduler", "worker")]
    app = api_app(system_settings, plugins=[dashboard_plugin()], keepalive_seconds=2.0)
    try:
        with live_app(app) as (url, _):
            system.wait_for_heartbeat("almanac_workers", *roles, timeout=60)
            yield url
    finally:
        system.close()


@pytest.fixture(scope="package")
def api(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{base_url}/api/v1", timeout=20) as client:
        yield client


@pytest.fixture(scope="package")
def browser(base_url: str) -> Iterator[Browser]:
    """Chromium for this package only: Playwright's sync API keeps an event loop running in
    this thread, so it starts after the system and stops before other packages' asyncio tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set ALMANAC_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(base_url: str, browser: Browser) -> Iterator[Page]:
    """A fresh tab on a laptop-sized screen; fails the test on a script error or on a request
    that leaves the app (the dashboard loads nothing from a CDN)."""
    context = browser.new_context(base_url=base_url, viewport=LAPTOP)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: _keep_errors(message, errors))
    foreign: list[str] = []
    opened.on("request", lambda request: _keep_foreign(request.url, base_url, foreign))
    yield opened
    context.close()
    assert not errors, errors
    assert not foreign, foreign


def _keep_foreign(url: str, base_url: str, foreign: list[str]) -> None:
    if not url.startswith((base_url, "data:")):
        foreign.append(url)


def _keep_errors(message: ConsoleMessage, errors: list[str]) -> None:
    """Script errors and 5xx answers; a 4xx is the API answering what the test provoked."""
    if message.type == "error" and not EXPECTED_4XX.search(message.text):
        errors.append(f"{message.text} at {message.location.get('url')}")


def screenshot(page: Page, name: str) -> None:
    """What the page looks like now, as <name>.png: in docs/screenshots with
    ALMANAC_SCREENSHOTS=1 (to refresh the README's pictures), else in a temporary folder."""
    folder = SCREENSHOTS if os.environ.get("ALMANAC_SCREENSHOTS") == "1" else SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar belongs at the top
    page.screenshot(
        path=folder / f"{name}.png",
        full_page=True,
        animations="disabled",
        style="[data-toasts] { display: none; }",  # passing notes are not part of the page
    )


def new_job(api: httpx.Client, handler: str = "jobs/ok.py", **fields: Any) -> dict[str, Any]:
    """A job made through the API (for tests about other pages than the form)."""
    body = {"name": f"job-{uuid.uuid4().hex[:8]}", "moduleId": MODULE, "handler": handler}
    response = api.post("/jobs", json={**body, **fields})
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job
