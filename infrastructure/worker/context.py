"""The JobContext a handler receives, in Python spelling of the seed's JobContext."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infrastructure.handler_services.database import DatabaseService
from infrastructure.handler_services.events import HandlerEvents
from infrastructure.handler_services.http import HttpService
from infrastructure.handler_services.logger import HandlerLogger


@dataclass
class Services:
    """`context.services`: logger, events, http, database, browser, notifications (and config,
    so the seed's `const { logger, config } = context.services` works too)."""

    logger: HandlerLogger
    events: HandlerEvents
    http: HttpService
    database: DatabaseService
    config: dict[str, Any]
    browser: Any = None
    notifications: Any = None


@dataclass
class JobContext:
    job_id: str
    execution_id: str
    attempt: int
    config: dict[str, Any]
    services: Services
    job_name: str = ""
    module_id: str = ""
    event: dict[str, Any] | None = None

    @property
    def logger(self) -> HandlerLogger:
        return self.services.logger
