"""The schedule preview the dashboard's cron builder uses."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx


def test_a_preview_lists_the_next_fire_times_and_describes_the_schedule(
    http: httpx.Client,
) -> None:
    response = http.get(
        "/api/v1/schedules/preview",
        params={"cron": "weekly-monday-9am", "timezone": "Europe/Berlin", "count": 3},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["expression"] == "0 9 * * 1"
    assert body["description"] == "At 09:00, only on Monday"
    instants = [datetime.fromisoformat(t) for t in body["next"]]
    assert len(instants) == 3
    assert all(t > datetime.now(UTC) for t in instants)
    assert all(t.weekday() == 0 for t in instants)


def test_a_six_field_expression_has_seconds_first(http: httpx.Client) -> None:
    body = http.get("/api/v1/schedules/preview", params={"cron": "*/15 * * * * *"}).json()

    seconds = {datetime.fromisoformat(t).second for t in body["next"]}
    assert seconds <= {0, 15, 30, 45}
    assert body["description"] == "Every 15 seconds"


def test_an_invalid_preview_names_the_parameter(http: httpx.Client) -> None:
    bad_cron = http.get("/api/v1/schedules/preview", params={"cron": "61 * * * *"})
    bad_zone = http.get(
        "/api/v1/schedules/preview", params={"cron": "hourly", "timezone": "Mars/Base"}
    )

    assert bad_cron.status_code == 422
    assert [e["field"] for e in bad_cron.json()["errors"]] == ["cron"]
    assert bad_zone.status_code == 422
    assert [e["field"] for e in bad_zone.json()["errors"]] == ["timezone"]
