"""services.notifications against a local SMTP server and HTTP receiver, recorded as events."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
import trustme

from application.bus import emit_event
from application.commands import EmitEvent
from application.dependencies import Dependencies
from application.worker import HandlerStatus
from infrastructure.handler_services.events import HandlerEvents
from infrastructure.handler_services.notifications import NotificationError, NotificationService
from infrastructure.settings import Settings, SmtpSettings
from infrastructure.webhooks import Backoff
from tests.integration.services.conftest import MODULES, bus_events, slots
from tests.integration.services.servers import http_server, smtp_server, starttls_smtp_server

SECRET = "s3cret-webhook-key"
PASSWORD = "hunter2-smtp-password"


def _signature_ok(headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Almanac-Signature"], expected)


async def test_email_webhook_and_slack_from_a_handler_arrive_and_are_recorded(
    monkeypatch: pytest.MonkeyPatch, deps: Dependencies, pool: asyncpg.Pool
) -> None:
    module = f"svc-{uuid4().hex[:8]}"
    with smtp_server() as (port, mailbox), http_server() as web:
        web.statuses["/hook"] = [503]  # the webhook's first try fails: it is retried
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(port))
        monkeypatch.setenv("SMTP_FROM", "almanac@example.test")
        monkeypatch.setenv("ALMANAC_WEBHOOK_SECRET", SECRET)
        messages = [
            {
                "channel": "email",
                "to": "ops@example.test",
                "subject": "Job done",
                "body": "All good",
            },
            {"channel": "webhook", "to": f"{web.url}/hook", "subject": "Hooked", "body": "B"},
            {"channel": "slack", "to": f"{web.url}/slack/T0/B0/XYZ", "subject": "S", "body": "B"},
        ]
        async with slots(MODULES / "svc", deps=deps) as runner:
            result = await runner.run(
                "jobs/notify_all.py", {"messages": messages}, module_id=module
            )
    assert result.status is HandlerStatus.COMPLETED, result.error
    [mail] = mailbox.messages
    assert mail.mail_from == "almanac@example.test"
    assert mail.rcpt_tos == ["ops@example.test"]
    text = mail.content.decode()
    assert "Subject: Job done" in text
    assert "All good" in text

    [_, hook] = web.posts("/hook")
    assert _signature_ok(hook.headers, hook.body)
    assert int(hook.headers["X-Almanac-Timestamp"]) > 0
    document = json.loads(hook.body)
    assert (document["subject"], document["body"], document["source"]) == ("Hooked", "B", module)
    [slack] = web.posts("/slack/T0/B0/XYZ")
    assert json.loads(slack.body) == {"text": "*S*\nB"}

    events = [e for e in await bus_events(pool, "notification.") if e["source"] == module]
    assert [e["name"] for e in events] == ["notification.sent"] * 3
    email, webhook, slack_event = (e["payload"] for e in events)
    assert email["recipient"] == "ops@example.test"
    assert email["subject"] == "Job done"
    assert "body" not in email
    assert webhook["attempts"] == 2
    assert "XYZ" not in slack_event["recipient"]  # a Slack URL is a secret


def _service(
    deps: Dependencies, client: httpx.AsyncClient, source: str, **settings: Any
) -> NotificationService:
    async def emit(name: str, payload: dict[str, Any], src: str | None) -> str:
        outcome = await emit_event(EmitEvent(name, payload, src or source), deps)
        return str(outcome.value.id)

    backoff = Backoff(attempts=2, base=0.01, ceiling=0.01)
    return NotificationService(
        Settings(**settings), HandlerEvents(emit), client, source=source, backoff=backoff
    )


async def test_failures_are_clear_errors_recorded_without_secrets(
    deps: Dependencies, pool: asyncpg.Pool
) -> None:
    source = f"svc-{uuid4().hex[:8]}"
    async with httpx.AsyncClient() as client:
        bare = _service(deps, client, source)
        with pytest.raises(NotificationError, match="unknown channel 'pigeon'"):
            await bare.send({"channel": "pigeon", "to": "x", "subject": "s", "body": "b"})
        with pytest.raises(NotificationError, match="SMTP_HOST is not set"):
            await bare.send(channel="email", to="a@example.test", subject="s", body="b")
        with pytest.raises(NotificationError, match="ALMANAC_WEBHOOK_SECRET is not set"):
            await bare.send(channel="webhook", to="http://127.0.0.1:9/x", subject="s", body="b")
        with smtp_server(with_auth=True) as (port, mailbox):
            smtp = SmtpSettings("127.0.0.1", port, "robot", PASSWORD, "robot@example.test")
            with pytest.raises(NotificationError, match="failed") as refused:
                await _service(deps, client, source, smtp=smtp).send(
                    channel="email", to="a@example.test", subject="login", body="b"
                )
            assert mailbox.messages == []
        assert PASSWORD not in str(refused.value)
        with http_server() as web:
            web.always["/down"] = 500
            signed = _service(deps, client, source, webhook_secret=SECRET)
            with pytest.raises(NotificationError, match=r"after 2 attempt\(s\): HTTP 500"):
                await signed.send(channel="webhook", to=f"{web.url}/down", subject="s", body="b")
    events = [e for e in await bus_events(pool, "notification.") if e["source"] == source]
    assert [e["name"] for e in events] == ["notification.failed"] * 5
    errors = [e["payload"]["error"] for e in events]
    assert "SMTP_HOST" in errors[1]
    assert all(PASSWORD not in json.dumps(e) and SECRET not in json.dumps(e) for e in events)


async def test_email_logs_in_and_sends_only_after_upgrading_to_tls(
    deps: Dependencies, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(tls)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))  # trust the test's CA
    source = f"svc-{uuid4().hex[:8]}"
    async with httpx.AsyncClient() as client:
        with starttls_smtp_server(tls, "robot", PASSWORD) as (port, mailbox):
            smtp = SmtpSettings("127.0.0.1", port, "robot", PASSWORD, "robot@example.test")
            await _service(deps, client, source, smtp=smtp).send(
                channel="email", to="ops@example.test", subject="over TLS", body="b"
            )
            plain = replace(smtp, starttls=False)
            with pytest.raises(NotificationError, match="failed"):
                await _service(deps, client, source, smtp=plain).send(
                    channel="email", to="ops@example.test", subject="in clear", body="b"
                )

    [mail] = mailbox.messages
    assert "Subject: over TLS" in mail.content.decode()
