"""The overview in Chromium: headline numbers that follow the system live."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.dashboard.conftest import PHONE, new_job, screenshot


def test_numbers_follow_a_run_without_reload(page: Page, api: httpx.Client) -> None:
    job = new_job(api, handler="jobs/sleepy.py", config={"seconds": 3})
    panels: list[str] = []
    page.on("request", lambda request: _keep_panel(request.url, panels))
    page.goto("/")
    for label in (
        "Queue length",
        "Running now",
        "Success rate",
        "Failure rate",
        "Average execution time",
        "Event throughput",
        "Worker utilisation",
    ):
        expect(page.get_by_text(label, exact=True)).to_be_visible()
    expect(page.get_by_role("meter", name="Busy worker slots")).to_be_visible()
    expect(page.locator('[data-metric="utilisation"]')).to_have_text(re.compile(r"^\d+%$"))

    api.post(f"/jobs/{job['id']}/execute")
    recent = page.get_by_role("table").get_by_role("row").filter(has_text=job["name"])
    expect(recent).to_contain_text("RUNNING", timeout=30_000)
    expect(page.locator('[data-metric="running"]')).to_have_text(re.compile(r"^[1-9]\d*$"))
    screenshot(page, "overview")
    expect(recent).to_contain_text("COMPLETED", timeout=30_000)
    # Live refreshes name the stream position they are for, so the server need not ask the store.
    assert any(re.search(r"\?at=\d+$", url) for url in panels), panels
    page.set_viewport_size(PHONE)
    screenshot(page, "overview-phone")


def _keep_panel(url: str, panels: list[str]) -> None:
    if "/ui/overview" in url:
        panels.append(url)
