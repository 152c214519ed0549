"""Executions in Chromium, with a real worker: live rows, live logs, cancel, filters, errors."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.e2e.dashboard.conftest import PHONE, WORKERS, new_job, screenshot

RUN = 30_000  # ms: a handler run on a machine busy with other work


def status_cell(row: Locator) -> Locator:
    return row.get_by_role("cell").nth(1)


def test_run_now_and_watch_pending_running_completed_without_reload(
    page: Page, api: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:6]
    blocker = new_job(api, name=f"blocker-{tag}", handler="jobs/sleepy.py", config={"seconds": 4})
    target = new_job(api, name=f"target-{tag}", handler="jobs/sleepy.py", config={"seconds": 2})
    page.goto(f"/executions?jobId={target['id']}")
    rows = page.get_by_role("table", name="Executions").get_by_role("row").filter(has_text=tag)
    expect(rows).to_have_count(0)

    # Every worker slot busy: the target's run must wait, PENDING, for a free one.
    for _ in range(WORKERS):
        assert api.post(f"/jobs/{blocker['id']}/execute").status_code == 202
    blockers = page.context.new_page()
    blockers.goto(f"/executions?jobId={blocker['id']}")
    busy = blockers.get_by_role("row").filter(has_text="RUNNING")
    expect(busy).to_have_count(WORKERS, timeout=RUN)

    blockers.goto(f"/jobs?q=target-{tag}")
    blockers.get_by_role("row").filter(has_text=target["name"]).get_by_role(
        "button", name="Run now"
    ).click()
    expect(blockers.get_by_role("status")).to_contain_text(f"Started {target['name']}")
    blockers.close()

    expect(rows).to_have_count(1)
    expect(status_cell(rows)).to_have_text("PENDING")
    expect(status_cell(rows)).to_have_text("RUNNING", timeout=RUN)
    expect(status_cell(rows)).to_have_text("COMPLETED", timeout=RUN)

    rows.get_by_role("rowheader").get_by_role("link").click()
    result = page.get_by_role("group", name="Result", exact=True)
    expect(result).to_contain_text("slept")
    page.get_by_text("Raw JSON").first.click()
    expect(result.locator("pre")).to_contain_text('"slept": 2')


def test_logs_tail_live_and_a_long_run_is_cancelled(page: Page, api: httpx.Client) -> None:
    job = new_job(api, handler="jobs/sleepy.py", config={"seconds": 60})
    execution = api.post(f"/jobs/{job['id']}/execute").json()
    page.goto(f"/executions/{execution['id']}")
    status = page.locator("[data-execution-status]")
    logs = page.get_by_role("list", name="Log lines")
    expect(status).to_have_text("RUNNING", timeout=RUN)
    expect(logs).to_contain_text("tick 3", timeout=RUN)
    expect(status).to_have_text("RUNNING")
    expect(page.get_by_role("list", name="Attempts")).to_contain_text("Attempt 1")
    screenshot(page, "execution-detail")

    page.get_by_role("button", name="Cancel execution").click()
    page.get_by_role("dialog", name="Cancel this execution?").get_by_role(
        "button", name="Cancel execution"
    ).click()
    expect(page.get_by_role("status")).to_contain_text(re.compile("Stopping the handler|Cancelled"))
    try:
        expect(status).to_have_text("CANCELLED", timeout=RUN)
    except AssertionError as failure:
        state = api.get(f"/executions/{execution['id']}").json()
        raise AssertionError(f"the API says {state['status']}: {state}") from failure
    expect(page.get_by_role("button", name="Cancel execution")).to_have_count(0)
    lines = logs.get_by_role("listitem").count()
    assert lines >= 4


def test_filter_by_status_then_read_the_error_and_stack(page: Page, api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6]
    fine = new_job(api, name=f"fine-{tag}")
    broken = new_job(api, name=f"broken-{tag}", handler="jobs/fail.py", retries=0)
    api.post(f"/jobs/{fine['id']}/execute")
    failed = api.post(f"/jobs/{broken['id']}/execute").json()
    page.goto("/executions")
    table = page.get_by_role("table", name="Executions")
    expect(table.get_by_role("row").filter(has_text=f"fine-{tag}")).to_contain_text(
        "COMPLETED", timeout=RUN
    )
    expect(table.get_by_role("row").filter(has_text=f"broken-{tag}")).to_contain_text(
        "FAILED", timeout=RUN
    )

    screenshot(page, "executions")
    page.get_by_label("Status").select_option("FAILED")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=FAILED"))
    statuses = table.locator("tbody tr td:nth-child(3)")
    expect(statuses.first).to_have_text("FAILED")
    assert set(statuses.all_inner_texts()) == {"FAILED"}
    expect(table.get_by_role("row").filter(has_text=f"fine-{tag}")).to_have_count(0)

    table.get_by_role("row").filter(has_text=f"broken-{tag}").get_by_role(
        "link", name=failed["id"][:8]
    ).click()
    error = page.get_by_role("group", name="Error", exact=True)
    expect(error).to_contain_text("SyncFailed: upstream said no (attempt 1)")
    expect(error.locator(".stack")).to_contain_text("Traceback")
    page.set_viewport_size(PHONE)
    screenshot(page, "execution-failed-phone")
