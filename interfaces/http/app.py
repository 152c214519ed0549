"""The Litestar application: REST API under /api/v1, live streams, docs, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.plugins import PluginProtocol
from litestar.plugins.prometheus import PrometheusConfig

from interfaces.http.body import MAX_BODY
from interfaces.http.controllers.events import EventController
from interfaces.http.controllers.executions import ExecutionController
from interfaces.http.controllers.jobs import JobController
from interfaces.http.controllers.live import LiveController
from interfaces.http.controllers.probes import healthz, metrics
from interfaces.http.controllers.schedules import preview_schedule
from interfaces.http.openapi import openapi_config
from interfaces.http.params import reject_nul_parameters
from interfaces.http.problems import exception_handlers
from interfaces.http.services import ApiServices

ServicesFactory = Callable[[], AbstractAsyncContextManager[ApiServices]]
API_PREFIX = "/api/v1"
# Long-lived streams would skew latency histograms; probes are scraped, not served.
NOT_MEASURED = [r"/stream$", r"^/metrics$", r"^/healthz$"]


def provide_services(state: State) -> ApiServices:
    services: ApiServices = state.services
    return services


def api_router() -> Router:
    return Router(
        path=API_PREFIX,
        route_handlers=[
            JobController,
            ExecutionController,
            EventController,
            LiveController,
            preview_schedule,
        ],
        before_request=reject_nul_parameters,
    )


def create_app(
    open_services: ServicesFactory,
    *,
    debug: bool = False,
    extra_handlers: Sequence[Any] = (),
    plugins: Sequence[PluginProtocol] = (),
) -> Litestar:
    """Build the app; its services are opened by `open_services` for the app's lifetime.

    `plugins` add to it (e.g. the dashboard's), sharing `state.services`.
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services() as services:
            app.state.services = services
            yield

    prometheus = PrometheusConfig(
        app_name="almanac", prefix="almanac_http", group_path=True, exclude=NOT_MEASURED
    )
    return Litestar(
        route_handlers=[api_router(), healthz, metrics, *extra_handlers],
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        lifespan=[lifespan],
        middleware=[prometheus.middleware],
        exception_handlers=exception_handlers(),
        openapi_config=openapi_config(),
        plugins=list(plugins),
        request_max_body_size=MAX_BODY,
        debug=debug,
        # Expected errors are answered, not logged; the handlers log 503s and 500s themselves.
        logging_config=LoggingConfig(log_exceptions="never"),
    )
