"""Jobs in Chromium: the form with presets, builder, preview and server errors; list; detail."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.dashboard.conftest import new_job, screenshot


def test_create_a_job_with_a_preset_and_find_it_in_the_list(page: Page) -> None:
    name = f"report-{uuid.uuid4().hex[:6]}"
    page.goto("/jobs/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Module").select_option("engine")
    page.get_by_label("Handler").select_option("jobs/ok.py")
    page.get_by_label("Schedule", exact=True).select_option(label="Every hour (0 * * * *)")
    expect(page.get_by_label("Cron expression")).to_have_value("0 * * * *")
    expect(page.get_by_label("Minute")).to_have_value("0")
    fire_times = page.get_by_role("list", name="Next five fire times").get_by_role("listitem")
    expect(fire_times).to_have_count(5)
    expect(page.locator("[data-cron-description]")).to_have_text("Every hour")
    page.get_by_label("Config (JSON object)").fill('{"greeting": "hello"}')
    screenshot(page, "job-form")

    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Enabled")

    page.goto(f"/jobs?q={name}")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("0 * * * *")
    expect(row).to_contain_text("Every hour")
    expect(row.locator("time[data-relative]").first).to_have_text(
        re.compile(r"^in \d+ (minute|second)s?$")
    )
    page.goto("/jobs")
    screenshot(page, "jobs")


def test_the_form_sets_backoff_missed_runs_triggers_and_webhooks(
    page: Page, api: httpx.Client
) -> None:
    page.goto("/jobs/new")
    page.get_by_label("Name").fill(f"on-signup-{uuid.uuid4().hex[:6]}")
    page.get_by_label("Module").select_option("engine")
    page.get_by_label("Handler").select_option("jobs/ok.py")
    page.get_by_label("Retry backoff (ms)").fill("500")
    page.get_by_label("Retry backoff cap (ms)").fill("8000")
    page.get_by_label("Later than that").select_option(label="Run each of them")
    page.get_by_label("Catch-up limit").fill("0")
    page.get_by_label("Run on events").fill("user.created\n  billing.*  \n")
    page.get_by_label("Completion webhooks").fill("https://hooks.example.com/almanac")

    page.get_by_role("button", name="Create job").click()
    limit = page.get_by_label("Catch-up limit")
    expect(limit).to_have_attribute("aria-invalid", "true")
    expect(limit).to_have_accessible_description(re.compile("between 1 and"))
    limit.fill("5")
    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("on-signup-")

    job = api.get(f"/jobs/{page.url.rsplit('/', 1)[-1]}").json()
    assert (job["backoff"]["baseMs"], job["backoff"]["maxMs"]) == (500, 8000)
    assert (job["misfire"]["catchUp"], job["misfire"]["limit"]) == ("all", 5)
    assert job["triggers"] == ["user.created", "billing.*"]
    assert job["webhooks"] == ["https://hooks.example.com/almanac"]

    page.goto(f"/jobs/{job['id']}/edit")
    expect(page.get_by_label("Run on events")).to_have_value("user.created\nbilling.*")
    expect(page.get_by_label("Retry backoff cap (ms)")).to_have_value("8000")
    page.get_by_label("Run on events").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("on-signup-")
    assert api.get(f"/jobs/{job['id']}").json()["triggers"] == []


def test_invalid_cron_shows_the_servers_error_next_to_the_field(page: Page) -> None:
    page.goto("/jobs/new")
    page.get_by_label("Name").fill(f"broken-{uuid.uuid4().hex[:6]}")
    page.get_by_label("Schedule", exact=True).select_option("custom")
    page.get_by_label("Minute").fill("61")
    expression = page.get_by_label("Cron expression")
    expect(expression).to_have_value("61 * * * *")
    page.get_by_label("Config (JSON object)").fill('{"unclosed": ')
    expect(page.locator("#field-config-error")).to_contain_text("not valid JSON")
    page.get_by_label("Config (JSON object)").fill("{}")
    expect(page.locator("#field-config-error")).to_be_hidden()

    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the highlighted fields")
    expect(expression).to_have_attribute("aria-invalid", "true")
    expect(expression).to_have_accessible_description(re.compile("invalid cron expression"))
    screenshot(page, "job-form-error")

    page.get_by_label("Minute").fill("*/15")
    expect(page.locator("[data-cron-description]")).to_have_text("Every 15 minutes")
    expect(expression).not_to_have_attribute("aria-invalid", "true")


def test_edit_a_job_and_meet_a_concurrent_change(page: Page, api: httpx.Client) -> None:
    job = new_job(api, schedule="*/5 * * * *", retries=2)
    page.goto(f"/jobs/{job['id']}/edit")
    schedule = page.get_by_label("Schedule", exact=True)
    expect(schedule).to_have_value("every-5-minutes")
    expect(page.get_by_label("Retries")).to_have_value("2")
    schedule.select_option("manual")
    expect(page.get_by_label("Cron expression")).to_have_value("")
    expect(page.locator("[data-cron-description]")).to_contain_text("No schedule")

    assert api.put(f"/jobs/{job['id']}", json={"description": "changed elsewhere"}).is_success
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone changed this job meanwhile")

    page.reload()
    expect(page.get_by_label("Description")).to_have_value("changed elsewhere")
    page.get_by_label("Schedule", exact=True).select_option("manual")
    page.get_by_label("Retries").fill("1")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(job["name"])
    definition = page.get_by_role("region", name="Definition")
    expect(definition).to_contain_text("Manual execution: no schedule")
    retries = definition.locator("dd", has_text="(backoff")
    expect(retries).to_have_text(re.compile(r"^1 \(backoff"))
    expect(page.get_by_role("list", name="History, newest first")).to_contain_text("Updated")


def test_filter_search_disable_and_delete_with_confirmation(page: Page, api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6]
    kept = new_job(api, name=f"keep-{tag}")
    gone = new_job(api, name=f"gone-{tag}")
    page.goto(f"/jobs?q={tag}")
    expect(page.get_by_role("row").filter(has_text=tag)).to_have_count(2)

    kept_row = page.get_by_role("row").filter(has_text=kept["name"])
    kept_row.get_by_role("button", name="Disable").click()
    expect(kept_row).to_contain_text("Disabled")
    page.get_by_label("State").select_option("false")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("row").filter(has_text=tag)).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text=kept["name"])).to_be_visible()

    page.goto(f"/jobs?q={tag}&moduleId=engine")
    gone_row = page.get_by_role("row").filter(has_text=gone["name"])
    gone_row.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name=f"Delete {gone['name']}?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(gone_row).to_be_visible()
    gone_row.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete job").click()
    expect(gone_row).to_have_count(0)
    page.reload()
    expect(page.get_by_role("row").filter(has_text=tag)).to_have_count(1)
    assert api.get(f"/jobs/{gone['id']}").status_code == 404


def test_job_detail_shows_runs_chart_and_skipped_occurrences(page: Page, api: httpx.Client) -> None:
    job = new_job(
        api,
        name=f"every-second-{uuid.uuid4().hex[:6]}",
        handler="jobs/sleepy.py",
        schedule="* * * * * *",
        overlap="skip",
        config={"seconds": 1.5},
    )
    page.goto(f"/jobs/{job['id']}")
    history = page.get_by_role("list", name="History, newest first")
    expect(history).to_contain_text("Created")
    expect(history).to_contain_text("because: overlap", timeout=20_000)
    runs = page.get_by_role("table", name="Executions")
    expect(runs.get_by_text("COMPLETED").first).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Disabled")
    expect(history).to_contain_text("Disabled")
    expect(page.get_by_role("img", name="Duration of recent runs, oldest first")).to_be_visible()
    screenshot(page, "job-detail")
