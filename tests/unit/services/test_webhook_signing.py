"""Webhook signatures, URL redaction and retry delays."""

from __future__ import annotations

import hashlib
import hmac

from infrastructure.webhooks import Backoff, redact_url, sign, signed_headers


def test_the_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"subject":"s"}'
    expected = hmac.new(b"key", body, hashlib.sha256).hexdigest()
    assert sign("key", body) == f"sha256={expected}"
    headers = signed_headers("key", body)
    assert headers["X-Almanac-Signature"] == f"sha256={expected}"
    assert headers["X-Almanac-Timestamp"].isdigit()
    assert headers["Content-Type"] == "application/json"


def test_urls_lose_credentials_and_query_in_records() -> None:
    assert redact_url("https://user:pw@example.com:8443/hook?token=t#x") == (
        "https://example.com:8443/hook"
    )
    assert redact_url("http://example.com/a") == "http://example.com/a"


def test_backoff_doubles_up_to_its_ceiling_with_jitter() -> None:
    backoff = Backoff(attempts=6, base=1.0, ceiling=4.0)
    for attempt, full in ((1, 1.0), (2, 2.0), (3, 4.0), (5, 4.0)):
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
