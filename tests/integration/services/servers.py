"""Local servers for the services tests: HTTP (pages and a webhook receiver) and SMTP."""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from tests.support.network import free_port

PAGE = b"""<!doctype html><html><head><title>Almanac test page</title></head>
<body><h1>Report</h1><div class="data">42 widgets shipped</div></body></html>"""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpServer:
    """GET serves PAGE; POST records the request and answers the next scripted status."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    always: dict[str, int] = field(default_factory=dict)

    def posts(self, path: str) -> list[Received]:
        return [r for r in self.received if urlsplit(r.path).path == path]

    def answer(self, path: str) -> int:
        """The next scripted status for this path, else its fixed one, else 200."""
        scripted = self.statuses.get(path)
        if scripted:
            return scripted.pop(0)
        return self.always.get(path, 200)


@contextlib.contextmanager
def http_server() -> Iterator[HttpServer]:
    state = HttpServer("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(200, PAGE, "text/html")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            status = state.answer(urlsplit(self.path).path)
            self._answer(status, b"{}", "application/json")

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class MailBox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


def _refuse_all(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult

    return AuthResult(success=False, handled=False)


def _accept(user: str, password: str) -> Any:
    """An authenticator that lets exactly one login in."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        given = (user.encode(), password.encode())
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == given
        return AuthResult(success=ok, handled=False)

    return authenticate


@contextlib.contextmanager
def smtp_server(*, with_auth: bool = False) -> Iterator[tuple[int, MailBox]]:
    """(port, mailbox) of a local SMTP server without STARTTLS; optionally refusing all logins."""
    options: dict[str, Any] = {}
    if with_auth:
        options = {"authenticator": _refuse_all, "auth_require_tls": False}
    with _smtp(options) as served:
        yield served


@contextlib.contextmanager
def starttls_smtp_server(
    tls: ssl.SSLContext, user: str, password: str
) -> Iterator[tuple[int, MailBox]]:
    """(port, mailbox) of a server that takes mail, and a login, only after STARTTLS."""
    options = {
        "tls_context": tls,
        "require_starttls": True,
        "authenticator": _accept(user, password),
        "auth_require_tls": True,
    }
    with _smtp(options) as served:
        yield served


@contextlib.contextmanager
def _smtp(options: dict[str, Any]) -> Iterator[tuple[int, MailBox]]:
    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()
