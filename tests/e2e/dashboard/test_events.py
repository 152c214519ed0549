"""Events in Chromium: emitted through the API, they join the list and statistics live."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.dashboard.conftest import screenshot

PAGE_SIZE = 25  # rows per page of the dashboard's lists


def emit(api: httpx.Client, name: str, source: str, **payload: object) -> dict[str, object]:
    response = api.post("/events", json={"name": name, "source": source, "payload": payload})
    assert response.status_code == 201, response.text
    event: dict[str, object] = response.json()
    return event


def test_an_emitted_event_appears_with_its_statistics_without_reload(
    page: Page, api: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:6]
    emit(api, f"order.{tag}.placed", "shop", order=1)
    page.goto("/events")
    total = page.locator('[data-metric="total"]')
    before = int(total.inner_text())
    page.evaluate("window.notReloaded = true")

    emit(api, f"order.{tag}.paid", "billing", order=1, amount={"value": 42, "currency": "EUR"})
    table = page.get_by_role("table", name="Events")
    row = table.get_by_role("row").filter(has_text=f"order.{tag}.paid")
    expect(row).to_contain_text("billing")
    expect(total).to_have_text(str(before + 1))
    expect(page.get_by_role("list", name="Top sources")).to_contain_text("billing")
    expect(page.get_by_role("img", name="Events per minute over the last hour")).to_be_visible()

    row.get_by_text("Payload").click()
    payload = row.get_by_role("group", name=f"Payload of order.{tag}.paid")
    expect(payload).to_contain_text("currency")
    expect(payload).to_contain_text('"EUR"')
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "events")


def test_pages_of_events_by_cursor(page: Page, api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6]
    for number in range(PAGE_SIZE + 1):
        emit(api, f"page{tag}.n{number}", "pager")
    page.goto(f"/events?source=pager&name=&pattern=page{tag}.*")
    rows = page.get_by_role("table", name="Events").get_by_role("row").filter(has_text=tag)
    expect(rows).to_have_count(PAGE_SIZE)
    expect(rows.first).to_contain_text(f"page{tag}.n{PAGE_SIZE}")
    page.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"page{tag}.n0")
    expect(page.get_by_role("link", name="Older")).to_have_count(0)
    page.get_by_role("link", name="Newest").click()
    expect(rows).to_have_count(PAGE_SIZE)


def test_filters_by_pattern_live_and_report_a_bad_pattern(page: Page, api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6]
    page.goto("/events")
    page.get_by_label("Pattern").fill(f"{tag}.*")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No events match these filters yet.")).to_be_visible()

    emit(api, f"{tag}.deep.nested", "sensor")
    emit(api, f"{tag}.one", "sensor", level=3)
    rows = page.get_by_role("table", name="Events").get_by_role("row").filter(has_text=tag)
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"{tag}.one")
    expect(page.get_by_text("No events match these filters yet.")).to_be_hidden()

    page.get_by_label("Pattern").fill("a..b")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_label("Pattern")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Pattern")).to_have_accessible_description(
        re.compile(r"segment '' of 'a\.\.b' must be a name")
    )
