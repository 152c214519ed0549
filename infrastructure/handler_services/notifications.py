"""`context.services.notifications`: email over SMTP, signed webhooks and Slack, each recorded.

`await notifications.send({"channel": "email", "to": ..., "subject": ..., "body": ...})` as in
the seed, or the same as keyword arguments. Every send becomes a `notification.sent` or
`notification.failed` event from the module, with channel, recipient, subject and error:
never the body, a password or a secret (Slack URLs are secrets, so only their host is shown).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
import httpx
import msgspec

from infrastructure.handler_services.events import HandlerEvents
from infrastructure.handler_services.logger import HandlerLogger
from infrastructure.settings import Settings
from infrastructure.webhooks import Backoff, post_with_retries, redact_url, signed_headers

CHANNELS = ("email", "webhook", "slack")
SMTP_NEEDS = "email notifications need SMTP_HOST (and SMTP_PORT, SMTP_USER, SMTP_PASSWORD)"
_encode = msgspec.json.Encoder().encode
MIN_SCRUBBED = 6


class NotificationError(Exception):
    """A notification that was not sent; the message says why (and which setting is missing)."""


@dataclass(frozen=True, slots=True)
class Notification:
    channel: str
    to: tuple[str, ...]
    subject: str
    body: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def recipient(self) -> str:
        """The recipient as events show it."""
        if not self.to:
            return ""
        if self.channel == "slack":
            parts = urlsplit(self.to[0])
            return f"{parts.scheme}://{parts.hostname or ''}/…"
        if self.channel == "webhook":
            return redact_url(self.to[0])
        return ", ".join(self.to)


class NotificationService:
    """One per attempt: events name the module as source and carry the execution's id."""

    def __init__(
        self,
        settings: Settings,
        events: HandlerEvents,
        client: httpx.AsyncClient,
        *,
        source: str,
        origin: Mapping[str, str] | None = None,
        logger: HandlerLogger | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._settings = settings
        self._events = events
        self._client = client
        self._source = source
        self._origin = dict(origin or {})
        self._logger = logger
        self._backoff = backoff or Backoff()

    async def send(
        self, message: Mapping[str, Any] | None = None, /, **fields: Any
    ) -> dict[str, Any]:
        """Sends one notification; raises NotificationError (after recording it) on failure."""
        note = _parse({**(message or {}), **fields})
        senders: dict[str, Callable[[Notification], Awaitable[dict[str, Any]]]] = {
            "email": self._email,
            "webhook": self._webhook,
            "slack": self._slack,
        }
        try:
            _check(note)
            detail = await senders[note.channel](note)
        except NotificationError as error:
            error = NotificationError(self._scrub(str(error)))
            await self._record("notification.failed", note, {"error": str(error)})
            raise error from None
        await self._record("notification.sent", note, detail)
        return {"channel": note.channel, "recipient": note.recipient, **detail}

    async def _email(self, note: Notification) -> dict[str, Any]:
        smtp = self._settings.smtp
        unknown = set(note.extra) - {"html"}
        if unknown:
            raise NotificationError(f"email takes no {', '.join(sorted(unknown))}")
        if smtp.host is None:
            raise NotificationError(f"SMTP_HOST is not set: {SMTP_NEEDS}")
        sender = smtp.sender or (smtp.user if smtp.user and "@" in smtp.user else None)
        if sender is None:
            raise NotificationError("SMTP_FROM is not set: email needs a From address")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            sender,
            ", ".join(note.to),
            note.subject,
        )
        message.set_content(str(note.body))
        if "html" in note.extra:
            message.add_alternative(str(note.extra["html"]), subtype="html")
        implicit_tls = smtp.port == 465
        try:
            await aiosmtplib.send(
                message,
                hostname=smtp.host,
                port=smtp.port,
                username=smtp.user,
                password=smtp.password if smtp.user else None,
                use_tls=implicit_tls,
                # None: upgrade when the server offers STARTTLS; False: never.
                start_tls=None if smtp.starttls and not implicit_tls else False,
                timeout=30,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            reason = _smtp_reason(error)
            raise NotificationError(f"email via {smtp.host}:{smtp.port} failed: {reason}") from None
        return {}

    async def _webhook(self, note: Notification) -> dict[str, Any]:
        secret = self._settings.webhook_secret
        if secret is None:
            raise NotificationError(
                "ALMANAC_WEBHOOK_SECRET is not set: webhooks are signed with it"
            )
        document = {
            "subject": note.subject,
            "body": note.body,
            **note.extra,
            "source": self._source,
            **self._origin,
            "sentAt": time.time(),
        }
        body = _encode(document)
        return await self._post(note, body, signed_headers(secret, body))

    async def _slack(self, note: Notification) -> dict[str, Any]:
        text = f"*{note.subject}*\n{note.body}" if note.subject else str(note.body)
        body = _encode({"text": text, **note.extra})
        return await self._post(note, body, {"Content-Type": "application/json"})

    async def _post(
        self, note: Notification, body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]:
        delivery = await post_with_retries(self._client, note.to[0], body, headers, self._backoff)
        if not delivery.ok:
            raise NotificationError(
                f"{note.channel} to {note.recipient} failed after {delivery.attempts} "
                f"attempt(s): {delivery.error}"
            )
        return {"status": delivery.status, "attempts": delivery.attempts}

    async def _record(self, name: str, note: Notification, detail: dict[str, Any]) -> None:
        """An event per notification; failing to record must not make a sent one fail."""
        payload = {
            "channel": note.channel,
            "recipient": note.recipient,
            "subject": note.subject,
            **self._origin,
            **detail,
        }
        try:
            await self._events.emit(name, payload, self._source)
        except Exception as error:  # the notification itself already went out (or failed)
            if self._logger is not None:
                self._logger.warning(f"could not record {name}", error=str(error))

    def _scrub(self, text: str) -> str:
        """Errors quote what servers said; make sure no credential rides along."""
        for secret in (self._settings.smtp.password, self._settings.webhook_secret):
            if secret and len(secret) >= MIN_SCRUBBED:  # a tiny one would mangle every word
                text = text.replace(secret, "***")
        return text


def _smtp_reason(error: Exception) -> str:
    """'535 5.7.8 Authentication credentials invalid' rather than a tuple's repr."""
    code, message = getattr(error, "code", None), getattr(error, "message", None)
    return f"{code} {message}" if code and message else str(error) or type(error).__name__


def _parse(fields: dict[str, Any]) -> Notification:
    """Seed-style fields to a Notification; `to` may be one address or URL, or a list."""
    to = fields.get("to")
    if isinstance(to, str):
        to = [to]
    valid = isinstance(to, list | tuple) and all(isinstance(item, str) and item for item in to)
    extra = {k: v for k, v in fields.items() if k not in ("channel", "to", "subject", "body")}
    return Notification(
        channel=str(fields.get("channel") or ""),
        to=tuple(to) if valid and to else (),
        subject=str(fields.get("subject") or ""),
        body=fields.get("body", ""),
        extra=extra,
    )


def _check(note: Notification) -> None:
    if note.channel not in CHANNELS:
        raise NotificationError(
            f"unknown channel {note.channel!r}: use one of {', '.join(CHANNELS)}"
        )
    if not note.to:
        raise NotificationError(f"{note.channel} notifications need `to` (an address or URL)")
    if note.channel != "email" and urlsplit(note.to[0]).scheme not in ("http", "https"):
        raise NotificationError(f"{note.channel} notifications need `to` to be an http(s) URL")
