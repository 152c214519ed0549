"""One API (uvicorn in a thread) and one projector process over a database of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from infrastructure.settings import Settings
from tests.support.apps import api_app, live_app
from tests.support.databases import own_settings
from tests.support.system import System

RATE_LIMIT = 20  # events per second per source, low enough to reach in a test
MODULE = "engine"
HANDLER = "jobs/emit.py"


@pytest.fixture(scope="session")
def api_settings(
    servers: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with own_settings(
        servers,
        tmp_path_factory.mktemp("api"),
        "api",
        event_rate_limit_per_source=RATE_LIMIT,
        event_retention_days=30,
    ) as settings:
        yield settings


@pytest.fixture(scope="session")
def api_url(api_settings: Settings) -> Iterator[str]:
    projector = System(api_settings)
    projector.start("projector")
    try:
        with live_app(api_app(api_settings, keepalive_seconds=0.5)) as (url, _):
            yield url
    finally:
        projector.close()


@pytest.fixture(scope="session")
def http(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=20) as client:
        yield client


def new_job(http: httpx.Client, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": f"job-{uuid.uuid4().hex[:8]}",
        "moduleId": MODULE,
        "handler": HANDLER,
    }
    body.update(changes)
    response = http.post("/api/v1/jobs", json=body)
    assert response.status_code == 201, response.text
    job: dict[str, object] = response.json()
    return job
