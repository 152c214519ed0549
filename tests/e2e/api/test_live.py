"""Server-Sent Events over real HTTP: the event stream from Redis and an execution's logs."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator

import httpx
import redis

from infrastructure.redis.keys import RedisKeys
from infrastructure.settings import Settings
from tests.e2e.api.conftest import new_job
from tests.e2e.api.test_events_executions import insert_logs
from tests.support.system import wait_until


def _messages(response: httpx.Response) -> Iterator[dict[str, str]]:
    """SSE messages as dicts of their fields (comments under `comment`)."""
    message: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if message:
                yield message
            message = {}
            continue
        field, _, value = line.partition(":")
        message[field or "comment"] = value.strip()


def _collect(url: str, headers: dict[str, str], wanted: int, found: list[dict[str, str]]) -> None:
    with httpx.Client(timeout=10) as client, client.stream("GET", url, headers=headers) as stream:
        for message in _messages(stream):
            found.append(message)
            if sum("data" in m for m in found) >= wanted:
                return


def _stream(
    url: str, wanted: int, headers: dict[str, str] | None = None
) -> tuple[threading.Thread, list[dict[str, str]]]:
    found: list[dict[str, str]] = []
    thread = threading.Thread(target=_collect, args=(url, headers or {}, wanted, found))
    thread.start()
    # The feed has fixed where it follows from once it sends a line or a keep-alive.
    wait_until(lambda: any("data" in m or m.get("comment") == "ping" for m in found))
    return thread, found


def test_stream_of_matching_events_resumable(http: httpx.Client, api_url: str) -> None:
    tag = f"live{uuid.uuid4().hex[:6]}"
    thread, found = _stream(f"{api_url}/api/v1/stream?pattern={tag}.*", 2)
    for name in (f"{tag}.one", f"{tag}.deeper.skipped", f"{tag}.two"):
        assert http.post("/api/v1/events", json={"name": name}).status_code == 201
    thread.join(15)
    data = [m for m in found if "data" in m]
    names = [json.loads(m["data"])["name"] for m in data]
    assert names == [f"{tag}.one", f"{tag}.two"]
    assert all(
        m["event"] == "event" and m["id"] == str(json.loads(m["data"])["position"]) for m in data
    )
    resumed, again = _stream(
        f"{api_url}/api/v1/stream?pattern={tag}.*", 1, {"Last-Event-ID": data[0]["id"]}
    )
    resumed.join(15)
    assert [json.loads(m["data"])["name"] for m in again if "data" in m] == [f"{tag}.two"]


def test_stream_sends_keepalives_and_sees_system_events(http: httpx.Client, api_url: str) -> None:
    thread, found = _stream(f"{api_url}/api/v1/stream?pattern=job.created", 1)
    job = new_job(http)
    thread.join(15)
    assert any(m.get("comment") == "ping" for m in found)
    created = [json.loads(m["data"]) for m in found if "data" in m]
    assert created[-1]["payload"]["jobId"] == job["id"]
    assert http.get("/api/v1/stream", params={"pattern": "a..b"}).status_code == 422


def test_log_stream_stored_then_live(
    http: httpx.Client, api_url: str, api_settings: Settings
) -> None:
    job = new_job(http)
    run = http.post(f"/api/v1/jobs/{job['id']}/execute").json()
    database = str(api_settings.database_url)
    asyncio.run(insert_logs(database, run["id"], 2))
    thread, found = _stream(f"{api_url}/api/v1/executions/{run['id']}/logs/stream", 3)
    asyncio.run(insert_logs(database, run["id"], 1, start=2))
    channel = RedisKeys(api_settings.redis_prefix).logs(run["id"])
    with redis.Redis.from_url(str(api_settings.redis_url)) as client:
        client.publish(channel, "1")
        thread.join(15)
        lines = [json.loads(m["data"]) for m in found if "data" in m]
        assert [line["message"] for line in lines] == ["line 0", "line 1", "line 2"]
        # The client went away: the stream's subscription is closed too (shielded clean-up).
        wait_until(lambda: client.pubsub_numsub(channel)[0][1] == 0, timeout=5)
    assert all(m["event"] == "log" for m in found if "data" in m)
    missing = http.get(f"/api/v1/executions/{uuid.uuid4()}/logs/stream")
    assert missing.status_code == 404
