"""Probes and docs over real HTTP: /healthz, /metrics, OpenAPI and the offline reference."""

from __future__ import annotations

import httpx

from tests.e2e.api.conftest import new_job


def test_healthz(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok", "postgres": "ok", "redis": "ok"}


def test_metrics_by_route_template_and_system_gauges(http: httpx.Client) -> None:
    job = new_job(http)
    http.get(f"/api/v1/jobs/{job['id']}")
    http.post(f"/api/v1/jobs/{job['id']}/execute")
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'path="/api/v1/jobs/{job_id}"' in text
    assert job["id"] not in text  # grouped by template, never by raw path
    assert "almanac_http_request_duration_seconds_bucket" in text
    assert "/stream" not in text
    assert 'almanac_executions{status="PENDING"}' in text
    assert "almanac_queue_length" in text
    assert 'almanac_projection_lag{projection="jobs"}' in text


def test_openapi_and_reference_page(http: httpx.Client) -> None:
    document = http.get("/docs/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in ("/api/v1/jobs", "/api/v1/events/stats/summary", "/api/v1/stream"):
        assert path in paths
    body = paths["/api/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["additionalProperties"] is False
    page = http.get("/docs/api")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/api/v1/jobs/{job_id}/execute" in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
