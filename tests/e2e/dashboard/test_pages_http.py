"""Every page and fragment answers over plain HTTP, escapes what users typed, and 404s kindly."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.dashboard.conftest import new_job


def test_every_page_renders(api: httpx.Client, base_url: str) -> None:
    job = new_job(api, schedule="*/5 * * * *", description="<script>alert(1)</script>")
    execution = api.post(f"/jobs/{job['id']}/execute").json()
    event = api.post("/events", json={"name": "page.rendered", "payload": {"a": [1, 2]}}).json()
    pages = [
        "/",
        "/jobs",
        "/jobs?enabled=true&moduleId=engine&q=job",
        "/jobs/new",
        f"/jobs/{job['id']}",
        f"/jobs/{job['id']}/edit",
        "/executions",
        f"/executions?status=PENDING&jobId={job['id']}",
        f"/executions/{execution['id']}",
        "/events",
        "/events?pattern=page.*",
        "/ui/overview",
        f"/ui/jobs/{job['id']}/row",
        f"/ui/executions/{execution['id']}/row",
        f"/ui/executions/{execution['id']}/summary",
        f"/ui/events/{event['id']}/row",
        "/ui/events/stats",
    ]
    with httpx.Client(base_url=base_url, timeout=20) as client:
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:2000])
            assert response.headers["content-type"].startswith("text/html"), path
            assert "<script>alert(1)</script>" not in response.text, path


def test_unknown_ids_and_bad_filters(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=20) as client:
        missing = client.get(f"/jobs/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert "No such job" in missing.text
        assert client.get(f"/executions/{uuid.uuid4()}").status_code == 404
        assert client.get("/executions?status=NOPE&jobId=x&cursor=garbage").status_code == 200
        bad_pattern = client.get("/events?pattern=a..b")
        assert bad_pattern.status_code == 200
        assert 'aria-invalid="true"' in bad_pattern.text


def test_assets_are_served_and_nothing_comes_from_elsewhere(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=20) as client:
        html = client.get("/").text
        for asset in ("/static/dashboard.css", "/static/dashboard.js"):
            assert asset in html
            assert client.get(asset).status_code == 200
    assert "http://" not in html.replace(base_url, "")
    assert "https://" not in html
