"""The bus's pure parts: the typed envelope, calling handlers, retry policy, names, decoding."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from application.eventbus import Event, RetryPolicy, call_handler, validate_subscriber_name
from domain.errors import InvalidValue
from infrastructure.redis.bus_stream import decode_event, entry_position, position_id, raw_envelope

ENVELOPE = {
    "id": "5b1c",
    "name": "user.created",
    "source": "auth-service",
    "payload": {"userId": "123", "tags": ["a"]},
    "createdAt": "2026-11-29T10:00:00.123Z",
    "position": 1234,
}
EVENT = Event.from_envelope(ENVELOPE)


def test_an_event_is_the_typed_envelope_and_turns_back_into_it() -> None:
    assert EVENT.created_at == datetime(2026, 11, 29, 10, 0, 0, 123000, tzinfo=UTC)
    assert (EVENT.name, EVENT.source, EVENT.position, EVENT.payload["userId"]) == (
        "user.created",
        "auth-service",
        1234,
        "123",
    )
    assert EVENT.envelope() == ENVELOPE
    berlin = Event.from_envelope({**ENVELOPE, "createdAt": "2026-11-29T11:00:00.123+01:00"})
    assert berlin.envelope()["createdAt"] == ENVELOPE["createdAt"]


def test_stream_entries_decode_and_a_bad_entry_is_none_not_an_error() -> None:
    assert (
        decode_event(
            raw_envelope(
                {
                    b"envelope": b'{"id":"5b1c","name":"user.created",'
                    b'"source":"s","payload":{},"createdAt":"2026-11-29T10:00:00.000Z","position":7}'
                }
            )
        )
        is not None
    )
    assert decode_event(raw_envelope({b"other": b"x"})) is None
    assert decode_event(b"not json") is None
    assert decode_event(b'{"name": "x"}') is None
    assert decode_event(b"[1, 2]") is None
    assert (entry_position(b"1234-0"), entry_position("7-0"), position_id(12)) == (1234, 7, "12-0")


async def test_async_handlers_are_awaited_and_plain_functions_run_off_the_event_loop() -> None:
    seen: list[tuple[str, bool]] = []
    loop_thread = threading.get_ident()

    async def async_handler(event: Event) -> None:
        seen.append(("async", threading.get_ident() == loop_thread))

    def sync_handler(event: Event) -> None:
        seen.append(("sync", threading.get_ident() == loop_thread))

    class Callable:
        async def __call__(self, event: Event) -> None:
            seen.append(("object", threading.get_ident() == loop_thread))

    def returns_a_coroutine(event: Event) -> object:
        return async_handler(event)

    for handler in (async_handler, sync_handler, Callable(), returns_a_coroutine):
        await call_handler(handler, EVENT)
    assert seen == [("async", True), ("sync", False), ("object", True), ("async", True)]


async def test_a_handler_error_reaches_the_caller() -> None:
    def broken(event: Event) -> None:
        raise KeyError(event.name)

    with pytest.raises(KeyError, match=r"user\.created"):
        await call_handler(broken, EVENT)


def test_the_retry_policy_counts_the_first_try() -> None:
    assert RetryPolicy().attempts == 4
    assert RetryPolicy(()).attempts == 1


@pytest.mark.parametrize("name", ["audit", "billing-v2", "mail_sender", "team.audit", "a" * 100])
def test_good_subscriber_names(name: str) -> None:
    assert validate_subscriber_name(name) == name


@pytest.mark.parametrize("name", ["", "Audit", "a:b", "a b", "a/b", "a" * 101, "ünï"])
def test_bad_subscriber_names_are_refused_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        validate_subscriber_name(name, "--group")
    assert refused.value.field == "--group"
