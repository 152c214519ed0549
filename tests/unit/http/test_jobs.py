"""Jobs over HTTP against fakes: shapes, defaults, ETags, partial updates, every error."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient

from tests.unit.http.conftest import job_body

Client = TestClient  # type: ignore[type-arg]


def test_create_returns_the_job_with_defaults_and_an_etag(client: Client) -> None:
    response = client.post("/api/v1/jobs", json=job_body(schedule="*/5 * * * *"))
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["timeout"] == 60_000
    assert job["retries"] == 2
    assert job["moduleId"] == "sample"
    assert job["schedule"] == "*/5 * * * *"
    assert job["backoff"] == {"baseMs": 1000, "maxMs": 300_000, "jitter": True}
    assert response.headers["etag"] == '"1"'
    assert client.get(f"/api/v1/jobs/{job['id']}").json()["name"] == "nightly"


def test_every_invalid_field_is_named_at_once(client: Client) -> None:
    body = job_body(
        name=5, retries="5", schedule="not cron", timeout=10, timezone="Mars/Base", colour=1
    )
    response = client.post("/api/v1/jobs", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"name", "retries", "schedule", "timeout", "timezone", "colour"}


def test_strict_types_and_domain_limits(client: Client) -> None:
    cases = [
        ({"enabled": "true"}, "enabled"),
        ({"retries": 26}, "retries"),
        ({"timeout": 86_400_001}, "timeout"),
        ({"config": [1]}, "config"),
        ({"config": {"x": "y" * 70_000}}, "config"),
        ({"backoff": {"baseMs": "1"}}, "backoff.baseMs"),
        ({"triggers": ["a..b"]}, "triggers[0]"),
        ({"moduleId": "nope"}, "moduleId"),
        ({"handler": "../x.py"}, "handler"),
    ]
    for change, field in cases:
        response = client.post("/api/v1/jobs", json=job_body(**change))
        assert response.status_code == 422, (change, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, (change, response.text)


def test_missing_fields_and_non_objects(client: Client) -> None:
    response = client.post("/api/v1/jobs", json={})
    assert {e["field"] for e in response.json()["errors"]} == {"name", "moduleId", "handler"}
    assert client.post("/api/v1/jobs", json=[1]).status_code == 422


def test_malformed_json_wrong_type_and_size(client: Client) -> None:
    headers = {"content-type": "application/json"}
    assert client.post("/api/v1/jobs", content=b"{", headers=headers).status_code == 400
    text = {"content-type": "text/plain"}
    assert client.post("/api/v1/jobs", content=b"{}", headers=text).status_code == 415
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post("/api/v1/jobs", content=big, headers=headers)
    assert response.status_code == 413
    assert response.json()["status"] == 413


def test_update_changes_only_the_fields_sent(client: Client) -> None:
    job = client.post("/api/v1/jobs", json=job_body(description="d", retries=1)).json()
    url = f"/api/v1/jobs/{job['id']}"
    response = client.put(url, json={"timeout": 5000, "backoff": {"maxMs": 9000}})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["timeout"] == 5000
    assert updated["retries"] == 1
    assert updated["backoff"]["maxMs"] == 9000
    assert updated["description"] == "d"
    assert response.headers["etag"] == '"2"'


def test_update_reports_type_and_domain_errors_together(client: Client) -> None:
    job = client.post("/api/v1/jobs", json=job_body()).json()
    response = client.put(f"/api/v1/jobs/{job['id']}", json={"retries": "2", "schedule": "x"})
    assert {e["field"] for e in response.json()["errors"]} == {"retries", "schedule"}


def test_stale_if_match_gets_412(client: Client) -> None:
    job = client.post("/api/v1/jobs", json=job_body()).json()
    url = f"/api/v1/jobs/{job['id']}"
    assert client.put(url, json={"name": "b"}, headers={"If-Match": '"7"'}).status_code == 412
    assert client.delete(url, headers={"If-Match": '"7"'}).status_code == 412
    assert client.put(url, json={"name": "b"}, headers={"If-Match": '"1"'}).status_code == 200


def test_enable_disable_delete(client: Client) -> None:
    job = client.post("/api/v1/jobs", json=job_body(enabled=False)).json()
    url = f"/api/v1/jobs/{job['id']}"
    assert client.put(f"{url}/enable").json()["enabled"] is True
    assert client.put(f"{url}/disable").json()["enabled"] is False
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.put(f"{url}/enable").status_code == 409  # a deleted job accepts nothing
    history = client.get(f"{url}/history").json()["items"]
    assert [h["type"] for h in history][-1] == "job.deleted"


def test_list_filters(client: Client) -> None:
    client.post("/api/v1/jobs", json=job_body(name="alpha"))
    client.post("/api/v1/jobs", json=job_body(name="beta", enabled=False))
    names = [j["name"] for j in client.get("/api/v1/jobs?q=alp").json()["items"]]
    assert names == ["alpha"]
    disabled = client.get("/api/v1/jobs?enabled=false").json()["items"]
    assert [j["name"] for j in disabled] == ["beta"]
    first = client.get("/api/v1/jobs?limit=1").json()
    assert len(first["items"]) == 1
    assert first["nextCursor"]


def test_bad_query_parameters_are_422_naming_them(client: Client) -> None:
    for query, name in [("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit")]:
        response = client.get(f"/api/v1/jobs?{query}")
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == name


def test_unknown_and_malformed_ids_are_404(client: Client) -> None:
    assert client.get(f"/api/v1/jobs/{uuid.uuid4()}").status_code == 404
    response = client.get("/api/v1/jobs/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["title"] == "Not Found"
    assert client.get("/api/v1/nothing-here").status_code == 404


def test_execute_now_with_a_config_override(client: Client) -> None:
    job = client.post("/api/v1/jobs", json=job_body(config={"a": 1, "b": 1})).json()
    response = client.post(f"/api/v1/jobs/{job['id']}/execute", json={"config": {"b": 2}})
    assert response.status_code == 202, response.text
    execution = response.json()
    assert execution["status"] == "PENDING"
    assert execution["trigger"]["type"] == "manual"
    assert execution["job"]["config"] == {"a": 1, "b": 2}
    bare = client.post(f"/api/v1/jobs/{job['id']}/execute")
    assert bare.status_code == 202
    wrong = client.post(f"/api/v1/jobs/{job['id']}/execute", json={"config": 1})
    assert wrong.status_code == 422


def test_hostile_bodies_and_parameters_are_4xx(client: Client) -> None:
    headers = {"content-type": "application/json"}
    deep = b'{"config": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    assert client.post("/api/v1/jobs", content=deep, headers=headers).status_code == 422
    nested: object = 1
    for _ in range(70):
        nested = [nested]
    assert client.post("/api/v1/jobs", json=job_body(config={"a": nested})).status_code == 422
    nul = client.post("/api/v1/jobs", json=job_body(name="a\x00b", config={"k\x00": 1}))
    assert nul.status_code == 422
    assert {e["field"] for e in nul.json()["errors"]} == {"name", "config.k\x00"}
    surrogate = b'{"name": "\\ud800"}'
    assert client.post("/api/v1/jobs", content=surrogate, headers=headers).status_code == 400
    assert client.get("/api/v1/jobs?q=a%00b").status_code == 422
    assert client.get("/api/v1/jobs?q=%ED%A0%80").status_code == 200
    big = job_body(timeout=10**30, config={"n": 10**30})
    assert client.post("/api/v1/jobs", json=big).json()["errors"][0]["field"] == "timeout"


def test_time_zones_the_loader_trips_over_are_422(client: Client) -> None:
    for name in ("Europe", "A" * 300):
        response = client.post("/api/v1/jobs", json=job_body(timezone=name, retries="x"))
        assert response.status_code == 422, name
        assert {e["field"] for e in response.json()["errors"]} == {"timezone", "retries"}
        job = client.post("/api/v1/jobs", json=job_body()).json()
        update = client.put(f"/api/v1/jobs/{job['id']}", json={"timezone": name})
        assert update.status_code == 422, name
