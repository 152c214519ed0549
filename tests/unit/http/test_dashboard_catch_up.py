"""Live dashboard fragments wait for the position of the event that asked for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from interfaces.http.app import create_app
from tests.unit.http.conftest import job_body
from tests.unit.http.fakes import World
from web.plugin import dashboard_plugin

Client = TestClient  # type: ignore[type-arg]
AT = 1000  # far beyond the fake store's head, so a wait for the head cannot pass for it


@pytest.fixture
def dashboard(world: World) -> Iterator[Client]:
    with TestClient(create_app(world.open, plugins=[dashboard_plugin()])) as test_client:
        yield test_client


@pytest.fixture
def waits(world: World) -> list[int | str]:
    """The positions the fragments waited for, and "head" each time they read the head."""
    seen: list[int | str] = []
    head = world.store.head

    async def wait_for(position: int, within: float = 2.0) -> bool:
        seen.append(position)
        return True

    async def counted_head() -> int:
        seen.append("head")
        return await head()

    world.read.wait_for = wait_for  # type: ignore[method-assign]
    world.store.head = counted_head  # type: ignore[method-assign]
    return seen


def _fragments(client: Client) -> list[str]:
    job = client.post("/api/v1/jobs", json=job_body()).json()
    execution = client.post(f"/api/v1/jobs/{job['id']}/execute").json()
    event = client.post("/api/v1/events", json={"name": "order.created"}).json()
    return [
        f"/ui/executions/{execution['id']}/row",
        f"/ui/executions/{execution['id']}/summary",
        f"/ui/events/{event['id']}/row",
        "/ui/events/stats",
        f"/ui/jobs/{job['id']}/detail",
        "/ui/overview",
    ]


def test_a_fragment_waits_for_the_position_it_was_given_without_reading_the_head(
    dashboard: Client, waits: list[int | str]
) -> None:
    for url in _fragments(dashboard):
        waits.clear()
        response = dashboard.get(url, params={"at": str(AT)})
        assert response.status_code == 200, (url, response.text)
        assert waits == [AT], url


@pytest.mark.parametrize("at", [None, "", "x", "-1", "1e3", "٣", "9" * 40])
def test_without_a_usable_position_a_fragment_waits_for_the_head(
    dashboard: Client, world: World, waits: list[int | str], at: str | None
) -> None:
    for url in _fragments(dashboard):
        waits.clear()
        response = dashboard.get(url, params={} if at is None else {"at": at})
        assert response.status_code == 200, (url, response.text)
        assert waits == ["head", world.store.position], url
