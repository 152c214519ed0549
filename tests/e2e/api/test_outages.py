"""Backing services down: 503 problems, never 500; and a clean stop with streams open."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from infrastructure.settings import Settings
from tests.e2e.api.servers import TcpProxy
from tests.support.apps import api_app, live_app
from tests.support.databases import new_prefix
from tests.support.system import wait_until


def _through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    auth = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{proxy.port}"))


@pytest.fixture(scope="module")
def proxies(api_settings: Settings) -> Iterator[tuple[TcpProxy, TcpProxy]]:
    database = urlsplit(str(api_settings.database_url))
    cache = urlsplit(str(api_settings.redis_url))
    postgres = TcpProxy(database.hostname or "127.0.0.1", database.port or 5432)
    redis = TcpProxy(cache.hostname or "127.0.0.1", cache.port or 6379)
    postgres.start()
    redis.start()
    yield postgres, redis
    postgres.close()
    redis.close()


def test_503_when_postgres_or_redis_is_down(
    api_settings: Settings, proxies: tuple[TcpProxy, TcpProxy]
) -> None:
    postgres, redis = proxies
    settings = dataclasses.replace(
        api_settings,
        database_url=_through(str(api_settings.database_url), postgres),
        redis_url=_through(str(api_settings.redis_url), redis),
        redis_prefix=new_prefix("outage"),
    )
    with live_app(api_app(settings)) as (url, _), httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/healthz").json() == {"status": "ok", "postgres": "ok", "redis": "ok"}
        redis.stop()
        event = http.post("/api/v1/events", json={"name": "outage.test"})
        assert event.status_code == 503, event.text
        assert event.headers["content-type"].startswith("application/problem+json")
        health = http.get("/healthz")
        assert health.status_code == 503
        assert health.json()["redis"].startswith("down")
        redis.start()
        postgres.stop()
        for path in ("/api/v1/jobs", f"/api/v1/executions/{uuid.uuid4()}", "/api/v1/events"):
            response = http.get(path)
            assert response.status_code == 503, (path, response.text)
            assert response.json()["status"] == 503
        assert http.get("/healthz").json()["postgres"].startswith("down")
        postgres.start()
        wait_until(lambda: http.get("/api/v1/jobs").status_code == 200, timeout=10)


def test_server_stops_promptly_with_streams_open(api_settings: Settings) -> None:
    settings = dataclasses.replace(api_settings, redis_prefix=new_prefix("stop"))
    connected, ended = threading.Event(), threading.Event()

    def follow(url: str) -> None:
        try:
            with (
                httpx.Client(timeout=30) as client,
                client.stream("GET", f"{url}/api/v1/stream") as stream,
            ):
                for _ in stream.iter_lines():
                    connected.set()
        except httpx.HTTPError:
            pass
        ended.set()

    # live_app gives the server a bounded time to stop: a stream holding it open fails here.
    with live_app(api_app(settings)) as (url, server):
        reader = threading.Thread(target=follow, args=(url,), daemon=True)
        reader.start()
        assert connected.wait(20), "the stream did not open"
    assert not server.is_alive()
    assert ended.wait(5)
