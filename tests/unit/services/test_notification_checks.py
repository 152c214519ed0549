"""Notifications refuse bad messages before any network, and record every refusal."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from infrastructure.handler_services.events import HandlerEvents
from infrastructure.handler_services.notifications import NotificationError, NotificationService
from infrastructure.settings import Settings, SmtpSettings

Recorded = list[tuple[str, dict[str, Any], str | None]]


@pytest.fixture
async def service_and_events() -> Any:
    recorded: Recorded = []

    async def emit(name: str, payload: dict[str, Any], source: str | None) -> str:
        recorded.append((name, payload, source))
        return "id"

    settings = Settings(smtp=SmtpSettings(host="smtp.invalid", password="pw"), webhook_secret="k")
    async with httpx.AsyncClient() as client:
        service = NotificationService(
            settings, HandlerEvents(emit), client, source="mod", origin={"executionId": "e1"}
        )
        yield service, recorded


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"channel": "fax", "to": "x"}, "unknown channel 'fax': use one of email, webhook, slack"),
        ({"channel": "email", "subject": "s"}, "email notifications need `to`"),
        ({"channel": "email", "to": [1, 2]}, "email notifications need `to`"),
        ({"channel": "webhook", "to": "ftp://x"}, "need `to` to be an http(s) URL"),
        ({"channel": "slack", "to": "hooks.slack.com"}, "need `to` to be an http(s) URL"),
        ({"channel": "email", "to": "a@b.c", "colour": "red"}, "email takes no colour"),
        ({"channel": "email", "to": "a@b.c"}, "SMTP_FROM is not set"),
    ],
)
async def test_bad_messages_are_refused_and_recorded(
    service_and_events: Any, message: dict[str, Any], error: str
) -> None:
    service, recorded = service_and_events
    with pytest.raises(NotificationError, match=re.escape(error)):
        await service.send(message)
    [(name, payload, source)] = recorded
    assert (name, source) == ("notification.failed", "mod")
    assert payload["executionId"] == "e1"
    assert error in payload["error"]


async def test_keyword_arguments_work_like_a_dict(service_and_events: Any) -> None:
    service, recorded = service_and_events
    with pytest.raises(NotificationError, match="unknown channel"):
        await service.send({"channel": "email"}, channel="fax", to="x", subject="Hi")
    assert recorded[0][1]["subject"] == "Hi"
    assert recorded[0][1]["channel"] == "fax"
