"""How an app mounts the dashboard: its pages, live fragments, templates and static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment
from litestar import Router
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from web.formatting import filters, query_with
from web.pages.events import EventPages
from web.pages.executions import ExecutionPages
from web.pages.job_form import JobFormPages
from web.pages.jobs import JobPages
from web.pages.overview import OverviewPages
from web.pages.support import dashboard_services

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_NAME = "dashboard-static"


def dashboard_routes() -> list[Any]:
    """The pages and fragments (one router, kept out of the OpenAPI document) and the assets."""
    pages = Router(
        path="/",
        route_handlers=[OverviewPages, JobPages, JobFormPages, ExecutionPages, EventPages],
        dependencies={"dashboard": Provide(dashboard_services, sync_to_thread=False)},
        include_in_schema=False,
    )
    assets = create_static_files_router(
        path="/static", directories=[STATIC], name=STATIC_NAME, include_in_schema=False
    )
    return [pages, assets]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja templates of the dashboard (autoescaped) with its filters."""
    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_register
    )


def _register(engine: JinjaTemplateEngine) -> None:
    environment: Environment = engine.engine
    environment.filters.update(filters())
    environment.globals.update(static_name=STATIC_NAME, query_with=query_with)


class DashboardPlugin(InitPluginProtocol):
    """Adds the dashboard to an app whose `state.services` satisfies DashboardServices."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(dashboard_routes())
        app_config.template_config = template_config()
        return app_config


def dashboard_plugin() -> DashboardPlugin:
    return DashboardPlugin()
