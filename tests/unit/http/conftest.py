"""An app over in-memory fakes, driven through Litestar's TestClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from interfaces.http.app import create_app
from tests.unit.http.fakes import HANDLER, MODULE, World


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(world.open)) as test_client:
        yield test_client


def job_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {"name": "nightly", "moduleId": MODULE, "handler": HANDLER}
    body.update(changes)
    return body
