"""Jobs over real HTTP, real Postgres, real Redis and a real projector."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.api.conftest import HANDLER, MODULE, new_job


def test_read_your_writes_a_hundred_times(http: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    for n in range(100):
        job = new_job(http, name=f"ryw-{tag}-{n:03}")
        got = http.get(f"/api/v1/jobs/{job['id']}")
        assert got.status_code == 200, (n, got.text)
        listed = http.get("/api/v1/jobs", params={"q": f"ryw-{tag}-{n:03}"}).json()["items"]
        assert [item["id"] for item in listed] == [job["id"]], n


def test_create_read_update_with_etags(http: httpx.Client) -> None:
    job = new_job(http, schedule="0 9 * * 1", timezone="Europe/Paris", config={"a": 1})
    assert job["enabled"] is True
    assert job["nextRunAt"] is not None
    assert job["timeout"] == 300_000
    assert job["retries"] == 3
    url = f"/api/v1/jobs/{job['id']}"
    got = http.get(url)
    assert got.headers["etag"] == '"1"'
    stale = http.put(url, json={"description": "x"}, headers={"If-Match": '"9"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    update = {"description": "weekly", "retries": 5, "backoff": {"baseMs": 2000}}
    updated = http.put(url, json=update, headers={"If-Match": '"1"'})
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["retries"], body["backoff"]["baseMs"], body["config"]) == (5, 2000, {"a": 1})
    assert updated.headers["etag"] == '"2"'
    assert http.get(url).json()["description"] == "weekly"


def test_filters_enable_disable(http: httpx.Client) -> None:
    job = new_job(http, enabled=False)
    url = f"/api/v1/jobs/{job['id']}"
    listed = http.get("/api/v1/jobs", params={"enabled": "false", "moduleId": MODULE}).json()
    assert job["id"] in [item["id"] for item in listed["items"]]
    assert http.put(f"{url}/enable").json()["enabled"] is True
    assert http.get(url).json()["enabled"] is True
    assert http.put(f"{url}/disable").json()["enabled"] is False
    assert http.put(f"{url}/disable").status_code == 200  # a repeat changes nothing


def test_pages_follow_the_cursor(http: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = {new_job(http, name=f"page-{tag}-{n}")["id"] for n in range(5)}
    seen: list[object] = []
    cursor = None
    while True:
        params = {"q": f"page-{tag}", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/v1/jobs", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 5
    bad = http.get("/api/v1/jobs", params={"cursor": "garbage!"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


def test_delete_keeps_history_and_executions(http: httpx.Client) -> None:
    job = new_job(http)
    url = f"/api/v1/jobs/{job['id']}"
    execution = http.post(f"{url}/execute", json={"config": {"x": 2}})
    assert execution.status_code == 202
    assert execution.json()["status"] == "PENDING"
    assert http.delete(url, headers={"If-Match": '"5"'}).status_code == 412
    assert http.delete(url).status_code == 204
    assert http.get(url).status_code == 404
    assert http.put(f"{url}/enable").status_code == 409
    assert http.post(f"{url}/execute").status_code == 409
    kept = http.get(f"/api/v1/executions/{execution.json()['id']}")
    assert kept.status_code == 200
    assert kept.json()["job"]["config"] == {"x": 2}
    history = http.get(f"{url}/history").json()["items"]
    assert [entry["type"] for entry in history] == ["job.created", "job.deleted"]
    assert history[1]["actor"] == "api"


def test_an_update_in_the_history_names_the_fields_it_changed_as_its_definition_does(
    http: httpx.Client,
) -> None:
    job = new_job(http)
    url = f"/api/v1/jobs/{job['id']}"
    assert http.put(url, json={"timeout": 90_000, "description": "weekly"}).is_success

    updated = http.get(f"{url}/history").json()["items"][-1]

    assert updated["type"] == "job.updated"
    assert sorted(updated["data"]["changed"]) == ["description", "timeoutMs"]
    assert updated["data"]["definition"]["timeoutMs"] == 90_000


def test_validation_names_every_field(http: httpx.Client) -> None:
    body = {
        "name": "",
        "moduleId": MODULE,
        "handler": "../../etc/passwd.py",
        "schedule": "61 * * * *",
        "timezone": "Nowhere/City",
        "timeout": 500,
        "retries": "5",
        "config": {"big": "x" * 70_000},
        "surprise": True,
    }
    response = http.post("/api/v1/jobs", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422
    assert problem["title"]
    assert problem["type"]
    fields = {error["field"] for error in problem["errors"]}
    expected = {"name", "handler", "schedule", "timezone", "timeout", "retries", "config"}
    assert fields == expected | {"surprise"}
    unknown = http.post("/api/v1/jobs", json={"name": "a", "moduleId": "nope", "handler": HANDLER})
    assert {e["field"] for e in unknown.json()["errors"]} == {"moduleId"}


def test_bodies_that_are_not_json(http: httpx.Client) -> None:
    json_type = {"content-type": "application/json"}
    malformed = http.post("/api/v1/jobs", content=b'{"name": ', headers=json_type)
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("application/problem+json")
    form = http.post("/api/v1/jobs", content=b"name=x", headers={"content-type": "text/plain"})
    assert form.status_code == 415
    huge = b'{"config": {"x": "' + b"y" * (1024 * 1024 + 10) + b'"}}'
    assert http.post("/api/v1/jobs", content=huge, headers=json_type).status_code == 413


def test_paths_and_parameters(http: httpx.Client) -> None:
    assert http.get(f"/api/v1/jobs/{uuid.uuid4()}").status_code == 404
    assert http.get("/api/v1/jobs/12345").status_code == 404
    assert http.get("/api/v1/no-such-thing").json()["status"] == 404
    for params, name in [({"limit": 0}, "limit"), ({"enabled": "maybe"}, "enabled")]:
        response = http.get("/api/v1/jobs", params=params)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == name
    assert http.post(f"/api/v1/jobs/{uuid.uuid4()}/execute").status_code == 404


def test_hostile_input_never_reaches_postgres_as_a_500(http: httpx.Client) -> None:
    nul = http.post("/api/v1/jobs", json={"name": "a\x00", "moduleId": MODULE, "handler": HANDLER})
    assert nul.status_code == 422
    event = http.post("/api/v1/events", json={"name": "a.b", "payload": {"x": "\x00"}})
    assert event.status_code == 422
    assert event.json()["errors"][0]["field"] == "payload.x"
    for params in ({"q": "\x00"}, {"moduleId": "x\x00"}, {"q": "%_\\"}):
        assert http.get("/api/v1/jobs", params=params).status_code in {200, 422}
    assert http.get("/api/v1/events", params={"source": "\x00"}).status_code == 422
    for zone in ("Europe", "x" * 300, "../../etc/passwd"):
        response = http.post(
            "/api/v1/jobs",
            json={"name": "z", "moduleId": MODULE, "handler": HANDLER, "timezone": zone},
        )
        assert response.status_code == 422, zone
