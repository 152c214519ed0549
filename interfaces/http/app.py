"""The Litestar application: REST API under /api/v1, dashboard, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.logging import LoggingConfig

from interfaces.http.services import ApiServices

ServicesFactory = Callable[[], AbstractAsyncContextManager[ApiServices]]


@get("/healthz", include_in_schema=True, sync_to_thread=False, tags=["probes"])
async def healthz(state: State) -> Response[dict[str, str]]:
    """200 when Postgres and Redis both answer, 503 naming the one that does not."""
    services: ApiServices = state.services
    checks = dict(await services.health.check())
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "degraded", **checks}
    return Response(body, status_code=200 if healthy else 503)


def create_app(open_services: ServicesFactory, *, debug: bool = False) -> Litestar:
    """Build the app; its services are opened by `open_services` for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services() as services:
            app.state.services = services
            yield

    return Litestar(
        route_handlers=[healthz],
        lifespan=[lifespan],
        debug=debug,
        logging_config=LoggingConfig(log_exceptions="always"),
    )
