"""Events and executions over real HTTP: emit, read, stats, clean-up, cancel, logs, history."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from infrastructure.settings import Settings
from tests.e2e.api.conftest import new_job


def _emit(http: httpx.Client, name: str, source: str, **payload: object) -> httpx.Response:
    return http.post("/api/v1/events", json={"name": name, "source": source, "payload": payload})


def test_emit_read_list_filter(http: httpx.Client) -> None:
    source = f"shop-{uuid.uuid4().hex[:6]}"
    created = _emit(http, "order.created", source, n=1)
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["position"] > 0
    assert event["createdAt"].endswith("Z")
    assert http.get(f"/api/v1/events/{event['id']}").json()["payload"] == {"n": 1}
    _emit(http, "order.paid.card", source)
    by_source = http.get("/api/v1/events", params={"source": source}).json()["items"]
    assert [e["name"] for e in by_source] == ["order.paid.card", "order.created"]
    one = http.get("/api/v1/events", params={"source": source, "pattern": "order.*"}).json()
    assert [e["name"] for e in one["items"]] == ["order.created"]
    deep = http.get("/api/v1/events", params={"source": source, "pattern": "order.**"}).json()
    assert len(deep["items"]) == 2
    since = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert http.get("/api/v1/events", params={"since": since}).json()["items"] == []
    recent = http.get("/api/v1/events/recent", params={"limit": 1}).json()["items"]
    assert recent[0]["name"] == "order.paid.card"


def test_stats_summary(http: httpx.Client) -> None:
    source = f"stats-{uuid.uuid4().hex[:6]}"
    _emit(http, "stats.checked", source)
    stats = http.get("/api/v1/events/stats/summary").json()
    assert stats["total"] >= 1
    assert stats["last24h"] >= 1
    assert sum(m["count"] for m in stats["perMinute"]) >= 1
    assert {"name", "count"} <= set(stats["topEvents"][0])
    assert {"source", "count"} <= set(stats["topSources"][0])


def test_event_errors(http: httpx.Client) -> None:
    bad = http.post("/api/v1/events", json={"name": "a..b", "source": "", "extra": 1})
    assert {e["field"] for e in bad.json()["errors"]} == {"extra"}
    named = http.post("/api/v1/events", json={"name": "a..b", "source": ""})
    assert {e["field"] for e in named.json()["errors"]} == {"name", "source"}
    assert http.post("/api/v1/events", json={"name": "job.created"}).status_code == 422
    schema = http.post("/api/v1/events", json={"name": "engine.checked", "payload": {}})
    assert schema.status_code == 422  # the engine module's JSON Schema requires `count`
    large = {"name": "big.payload", "payload": {"x": "y" * (257 * 1024)}}
    assert http.post("/api/v1/events", json=large).status_code == 413
    for params in ({"pattern": "a.***"}, {"since": "yesterday"}, {"until": "2026-13-01"}):
        response = http.get("/api/v1/events", params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == next(iter(params))
    assert http.get("/api/v1/events/not-an-id").status_code == 404
    assert http.get(f"/api/v1/events/{uuid.uuid4()}").status_code == 404


def test_rate_limit_per_source(http: httpx.Client) -> None:
    source = f"flood-{uuid.uuid4().hex[:6]}"
    time.sleep(1 - time.time() % 1)  # a burst from the start of a one-second window
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: _emit(http, "flood.tick", source, n=n), range(60)))
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert sum(a.status_code == 201 for a in answers) < 60
    assert 1 <= int(limited[0].headers["retry-after"]) <= 1
    assert _emit(http, "flood.tick", f"other-{source}").status_code == 201


def test_cleanup(http: httpx.Client, api_settings: Settings) -> None:
    assert http.delete("/api/v1/events/cleanup").json() == {"deleted": 0}  # 30-day default
    assert http.delete("/api/v1/events/cleanup", params={"olderThanDays": -1}).status_code == 422
    event = _emit(http, "old.event", "cleanup").json()
    asyncio.run(_age_event(str(api_settings.database_url), event["id"]))
    deleted = http.delete("/api/v1/events/cleanup", params={"olderThanDays": 10}).json()
    assert deleted["deleted"] >= 1
    assert http.get(f"/api/v1/events/{event['id']}").status_code == 404


async def _age_event(database_url: str, event_id: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE rm_events SET created_at = now() - interval '40 days' WHERE id = $1",
            uuid.UUID(event_id),
        )
    finally:
        await connection.close()


def test_executions_list_get_cancel_history(http: httpx.Client) -> None:
    job = new_job(http)
    run = http.post(f"/api/v1/jobs/{job['id']}/execute").json()
    listed = http.get("/api/v1/executions", params={"jobId": job["id"]}).json()["items"]
    assert [e["id"] for e in listed] == [run["id"]]
    pending = http.get("/api/v1/executions", params={"status": "PENDING", "limit": 500}).json()
    assert run["id"] in [e["id"] for e in pending["items"]]
    detail = http.get(f"/api/v1/executions/{run['id']}").json()
    assert detail["jobName"] == job["name"]
    assert detail["trigger"]["type"] == "manual"
    assert detail["maxAttempts"] == 4
    assert detail["attempts"] == []
    cancelled = http.delete(f"/api/v1/executions/{run['id']}")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
    assert http.get(f"/api/v1/executions/{run['id']}").json()["status"] == "CANCELLED"
    again = http.delete(f"/api/v1/executions/{run['id']}")
    assert again.status_code == 200
    assert again.json()["status"] == "CANCELLED"
    history = http.get(f"/api/v1/executions/{run['id']}/history").json()["items"]
    assert [h["type"] for h in history] == ["execution.requested", "execution.cancelled"]
    assert http.get(f"/api/v1/executions/{job['id']}/history").status_code == 404


def test_execution_parameters(http: httpx.Client) -> None:
    for params, name in [({"status": "DONE"}, "status"), ({"jobId": "x"}, "jobId")]:
        response = http.get("/api/v1/executions", params=params)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == name
    assert http.get(f"/api/v1/executions/{uuid.uuid4()}").status_code == 404
    assert http.delete(f"/api/v1/executions/{uuid.uuid4()}").status_code == 404
    assert http.get(f"/api/v1/executions/{uuid.uuid4()}/logs").status_code == 404


def test_logs_page_by_cursor(http: httpx.Client, api_settings: Settings) -> None:
    job = new_job(http)
    run = http.post(f"/api/v1/jobs/{job['id']}/execute").json()
    asyncio.run(insert_logs(str(api_settings.database_url), run["id"], 3))
    logs = f"/api/v1/executions/{run['id']}/logs"
    everything = http.get(logs).json()
    assert [line["message"] for line in everything["items"]] == ["line 0", "line 1", "line 2"]
    assert everything["nextCursor"] is None
    first = http.get(logs, params={"limit": 1}).json()
    page = http.get(logs, params={"cursor": first["nextCursor"], "limit": 1}).json()
    assert [line["message"] for line in page["items"]] == ["line 1"]
    rest = http.get(logs, params={"cursor": page["nextCursor"]}).json()
    assert [line["message"] for line in rest["items"]] == ["line 2"]
    for params in ({"cursor": "not-a-seq"}, {"limit": 501}):
        refused = http.get(logs, params=params)
        assert refused.status_code == 422, params
        assert refused.json()["errors"][0]["field"] == next(iter(params)), params


async def insert_logs(database_url: str, execution_id: str, count: int, start: int = 0) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        for n in range(start, start + count):
            await connection.execute(
                "INSERT INTO execution_logs (execution_id, attempt, at, level, message)"
                " VALUES ($1, 1, now(), 'info', $2)",
                uuid.UUID(execution_id),
                f"line {n}",
            )
    finally:
        await connection.close()


def test_cancel_running_202_and_finished_409(http: httpx.Client, api_settings: Settings) -> None:
    job = new_job(http)
    running = http.post(f"/api/v1/jobs/{job['id']}/execute").json()["id"]
    done = http.post(f"/api/v1/jobs/{job['id']}/execute").json()["id"]
    asyncio.run(_play_worker(api_settings, running, done))
    cancelling = http.delete(f"/api/v1/executions/{running}")
    assert cancelling.status_code == 202, cancelling.text
    assert cancelling.json()["status"] == "RUNNING"
    assert cancelling.json()["cancelRequested"] is True
    finished = http.delete(f"/api/v1/executions/{done}")
    assert finished.status_code == 409
    detail = http.get(f"/api/v1/executions/{done}").json()
    assert detail["status"] == "COMPLETED"
    assert detail["result"] == {"ok": True}
    assert detail["attempts"][0]["worker"] == "test-worker"
    history = http.get(f"/api/v1/executions/{done}/history").json()["items"]
    assert [h["type"] for h in history][-1] == "execution.completed"


async def _play_worker(settings: Settings, running: str, done: str) -> None:
    """Start both executions' first attempt and complete one, as a worker would."""
    from application.commands import CompleteAttempt, StartAttempt
    from application.executions import complete_attempt, start_attempt
    from interfaces.bootstrap.runtime import open_runtime

    async with open_runtime(settings, pool_size=2, store_threads=2) as runtime:
        for execution in (running, done):
            command = StartAttempt(uuid.UUID(execution), 1, "test-worker")
            await start_attempt(command, runtime.deps)
        outcome = await complete_attempt(
            CompleteAttempt(uuid.UUID(done), 1, {"ok": True}), runtime.deps
        )
    assert outcome.position > 0
