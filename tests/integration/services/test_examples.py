"""The example modules `screenshot` and `notify`, run in real slots from ops/examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from application.dependencies import JobDefaults
from application.worker import HandlerStatus
from infrastructure.modules.manifest import read_manifest
from tests.integration.services.conftest import EXAMPLES, slots
from tests.integration.services.servers import http_server, smtp_server


@pytest.mark.parametrize("name", ["screenshot", "notify"])
def test_the_manifests_are_valid(name: str) -> None:
    manifest, jobs = read_manifest(EXAMPLES / name / "manifest.json", JobDefaults())
    assert manifest.name == name
    assert all((EXAMPLES / name / job.handler).is_file() for job in jobs)


async def test_screenshot_reads_the_page_and_saves_a_png(tmp_path: Path) -> None:
    async with slots(EXAMPLES / "screenshot") as runner:
        saved = await runner.run("jobs/capture.py", {"outputDir": str(tmp_path)})
        inline = await runner.run(
            "jobs/capture.py", {"url": "data:text/html,<p class=data>inline</p>", "save": False}
        )
    assert saved.status is HandlerStatus.COMPLETED, saved.error
    assert saved.result["title"] == "Almanac weekly report"
    assert saved.result["text"] == "1,284 executions, 99.2% completed"
    png = Path(saved.result["saved"]).read_bytes()
    assert png.startswith(b"\x89PNG")
    assert len(png) == saved.result["bytes"]
    assert inline.status is HandlerStatus.COMPLETED, inline.error
    assert inline.result["text"] == "inline"
    assert "saved" not in inline.result


async def test_notify_sends_email_and_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server() as (port, mailbox), http_server() as web:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(port))
        monkeypatch.setenv("SMTP_FROM", "almanac@example.test")
        monkeypatch.setenv("ALMANAC_WEBHOOK_SECRET", "example-secret")
        config = {"emailTo": ["a@example.test", "b@example.test"], "webhookUrl": f"{web.url}/r"}
        async with slots(EXAMPLES / "notify") as runner:
            result = await runner.run("jobs/send_report.py", config, module_id="notify")
    assert result.status is HandlerStatus.COMPLETED, result.error
    assert [sent["channel"] for sent in result.result["sent"]] == ["email", "webhook"]
    [mail] = mailbox.messages
    assert mail.rcpt_tos == ["a@example.test", "b@example.test"]
    assert "Subject: Almanac report" in mail.content.decode()
    [post] = web.posts("/r")
    assert json.loads(post.body)["data"] == {"job": "test", "attempt": 1}


async def test_notify_without_smtp_fails_naming_the_setting() -> None:
    async with slots(EXAMPLES / "notify") as runner:
        result = await runner.run("jobs/send_report.py", {"emailTo": "a@example.test"})
    assert result.status is HandlerStatus.FAILED
    assert result.error is not None
    assert result.error.type.endswith("NotificationError")
    assert result.error.message.startswith("SMTP_HOST is not set")
