"""Executions, events, streams, probes and docs over HTTP against fakes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from litestar.testing import TestClient

from application.errors import ServiceUnavailable
from application.views import LogLine
from tests.unit.http.conftest import job_body
from tests.unit.http.fakes import World

Client = TestClient  # type: ignore[type-arg]


def _execution(client: Client) -> dict[str, object]:
    job = client.post("/api/v1/jobs", json=job_body()).json()
    result: dict[str, object] = client.post(f"/api/v1/jobs/{job['id']}/execute").json()
    return result


def test_cancel_pending_is_200_and_a_second_cancel_too(client: Client) -> None:
    execution = _execution(client)
    url = f"/api/v1/executions/{execution['id']}"
    first = client.delete(url)
    assert first.status_code == 200
    assert first.json()["status"] == "CANCELLED"
    assert client.delete(url).status_code == 200  # cancelling a cancelled execution: done
    assert client.get(url).json()["status"] == "CANCELLED"
    types = [h["type"] for h in client.get(f"{url}/history").json()["items"]]
    assert types == ["execution.requested", "execution.cancelled"]


def test_execution_lists_filters_and_bad_parameters(client: Client) -> None:
    execution = _execution(client)
    found = client.get(f"/api/v1/executions?jobId={execution['jobId']}&status=PENDING").json()
    assert [e["id"] for e in found["items"]] == [execution["id"]]
    for query in ("status=DONE", "jobId=xyz", "limit=-1"):
        response = client.get(f"/api/v1/executions?{query}")
        assert response.status_code == 422, query
        assert response.json()["errors"][0]["field"] == query.split("=")[0]
    assert client.get(f"/api/v1/executions/{uuid.uuid4()}").status_code == 404
    for tail in ("history", "logs", "logs/stream"):
        assert client.get(f"/api/v1/executions/{uuid.uuid4()}/{tail}").status_code == 404, tail


def test_logs_page_by_cursor(client: Client, world: World) -> None:
    execution = _execution(client)
    ident = uuid.UUID(str(execution["id"]))
    now = datetime.now(UTC)
    world.read.logs += [LogLine(n, ident, 1, now, "info", f"line {n}", {}) for n in (1, 2, 3)]
    page = client.get(f"/api/v1/executions/{ident}/logs?cursor=1&limit=1").json()
    assert [line["seq"] for line in page["items"]] == [2]
    assert page["nextCursor"] == "2"
    last = client.get(f"/api/v1/executions/{ident}/logs?cursor={page['nextCursor']}").json()
    assert ([line["seq"] for line in last["items"]], last["nextCursor"]) == ([3], None)
    for query in ("cursor=x", "cursor=-1", "cursor=1.5", f"cursor={2**63}", "limit=501"):
        response = client.get(f"/api/v1/executions/{ident}/logs?{query}")
        assert response.status_code == 422, query
        assert response.json()["errors"][0]["field"] == query.split("=")[0], query


def test_events_emit_read_list_stats(client: Client) -> None:
    body = {"name": "order.created", "source": "shop", "payload": {"n": 1}}
    response = client.post("/api/v1/events", json=body)
    assert response.status_code == 201, response.text
    event = response.json()
    assert client.get(f"/api/v1/events/{event['id']}").json()["payload"] == {"n": 1}
    assert client.get("/api/v1/events/recent?limit=5").json()["items"][0]["id"] == event["id"]
    assert client.get("/api/v1/events?name=order.created").json()["items"]
    stats = client.get("/api/v1/events/stats/summary").json()
    assert stats["topEvents"] == [{"name": "order.created", "count": 1}]
    assert stats["topSources"][0]["source"] == "api"
    assert client.delete("/api/v1/events/cleanup?olderThanDays=1").json() == {"deleted": 0}


def test_commands_answer_from_the_write_side_while_the_read_models_lag(
    client: Client, world: World
) -> None:
    world.read.lagging = True
    created = client.post("/api/v1/jobs", json=job_body(schedule="*/5 * * * *"))
    assert created.status_code == 201, created.text
    job = created.json()
    assert (job["name"], job["version"], job["nextRunAt"] is not None) == ("nightly", 1, True)
    executed = client.post(f"/api/v1/jobs/{job['id']}/execute")
    assert executed.status_code == 202, executed.text
    assert (executed.json()["status"], executed.json()["jobId"]) == ("PENDING", job["id"])
    emitted = client.post("/api/v1/events", json={"name": "order.created"})
    assert emitted.status_code == 201, emitted.text
    assert (emitted.json()["name"], emitted.json()["position"]) == ("order.created", 3)


def test_event_errors(client: Client, world: World) -> None:
    bad = client.post("/api/v1/events", json={"name": "a..b", "source": "", "payload": 1})
    assert {e["field"] for e in bad.json()["errors"]} == {"payload"}
    names = client.post("/api/v1/events", json={"name": "a..b", "source": ""})
    assert {e["field"] for e in names.json()["errors"]} == {"name", "source"}
    reserved = client.post("/api/v1/events", json={"name": "job.created"})
    assert reserved.status_code == 422
    huge = {"name": "big.one", "payload": {"x": "y" * (300 * 1024)}}
    assert client.post("/api/v1/events", json=huge).status_code == 413
    for query in ("pattern=a..b", "since=yesterday", "olderThanDays=-1"):
        path = "/api/v1/events/cleanup" if "older" in query else "/api/v1/events"
        method = client.delete if "older" in query else client.get
        assert method(f"{path}?{query}").status_code == 422, query
    world.limiter.wait = 0.4
    limited = client.post("/api/v1/events", json={"name": "a.b"})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"


def test_backing_service_down_is_503(client: Client, world: World) -> None:
    world.read.failure = ServiceUnavailable("postgres is down")
    response = client.get(f"/api/v1/jobs/{uuid.uuid4()}")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    world.read.failure = ConnectionRefusedError("refused")
    assert client.get(f"/api/v1/jobs/{uuid.uuid4()}").status_code == 503
    world.health.state = {"postgres": "down: OSError", "redis": "ok"}
    assert client.get("/healthz").status_code == 503


def test_streams_send_envelopes_with_ids_and_keepalives(client: Client, world: World) -> None:
    world.feeds.items = [{"name": "a.b", "position": 7}]
    response = client.get("/api/v1/stream?pattern=a.*")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "id: 7" in response.text
    assert ": ping" in response.text
    assert client.get("/api/v1/stream?pattern=a..b").status_code == 422
    assert client.get("/api/v1/stream", headers={"Last-Event-ID": "x"}).status_code == 422


def test_docs_and_metrics(client: Client) -> None:
    document = client.get("/docs/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/jobs/{job_id}/execute" in document["paths"]
    page = client.get("/docs/api")
    assert page.status_code == 200
    assert "/api/v1/events/stats/summary" in page.text
    assert "<script" not in page.text
    assert "cdn" not in page.text.lower()
    client.get("/api/v1/jobs")
    text = client.get("/metrics").text
    assert 'path="/api/v1/jobs"' in text
    assert "almanac_queue_length" in text


def test_cancel_running_is_202_and_finished_is_409(client: Client, world: World) -> None:
    from application.commands import CompleteAttempt, StartAttempt
    from application.executions import complete_attempt, start_attempt

    deps = world.services().deps
    running = uuid.UUID(str(_execution(client)["id"]))
    asyncio.run(start_attempt(StartAttempt(running, 1, "w1"), deps))
    first = client.delete(f"/api/v1/executions/{running}")
    assert first.status_code == 202
    assert first.json()["cancelRequested"] is True
    assert client.delete(f"/api/v1/executions/{running}").status_code == 202
    done = uuid.UUID(str(_execution(client)["id"]))
    asyncio.run(start_attempt(StartAttempt(done, 1, "w1"), deps))
    asyncio.run(complete_attempt(CompleteAttempt(done, 1, {"ok": True}), deps))
    finished = client.delete(f"/api/v1/executions/{done}")
    assert finished.status_code == 409
    assert "finished" in finished.json()["detail"]
