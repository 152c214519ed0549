"""Errors as RFC 9457 problem+json: one mapping from every failure to one status code."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
import msgspec
import redis.exceptions
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from application.errors import ConcurrencyConflict, NotFound, PreconditionFailed, ServiceUnavailable
from domain.errors import InvalidTransition, InvalidValue, InvalidValues

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"

# Connection failures of the drivers: the backing service is down, not the request wrong.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    ServiceUnavailable,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
)


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """An error response: `errors` lists every invalid field of a 422."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raised by controllers to answer with a problem; carries optional response headers."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        super().__init__(detail)


def invalid(errors: Sequence[FieldError]) -> ProblemError:
    """A 422 naming each invalid field."""
    names = ", ".join(sorted({error.field for error in errors}))
    return ProblemError(422, f"invalid fields: {names}", errors=errors)


def rate_limited(retry_after: float) -> ProblemError:
    seconds = max(1, math.ceil(retry_after))
    detail = f"too many events from this source; retry in {seconds} s"
    return ProblemError(429, detail, headers={"Retry-After": str(seconds)})


def problem_response(
    status: int,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response[Problem]:
    body = Problem(
        type="about:blank" if status != 422 else "urn:almanac:problem:validation",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=list(errors) or None,
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def _from_problem(_: Request[Any, Any, Any], exc: ProblemError) -> Response[Problem]:
    return problem_response(exc.status, exc.detail, exc.errors, exc.headers)


def _from_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    return problem_response(exc.status_code, str(exc.detail), headers=headers)


def _from_validation(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Problem]:
    """Litestar's own parsing errors: malformed JSON stays 400, parameter errors become 422."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        FieldError(_alias(request, str(item.get("key") or "body")), str(item.get("message")))
        for item in extra
        if isinstance(item, dict)
    ]
    if errors:
        return problem_response(422, "invalid request", errors)
    return problem_response(400, str(exc.detail))


def _alias(request: Request[Any, Any, Any], key: str) -> str:
    """The parameter's name on the wire (`jobId`), not its Python name (`job_id`)."""
    try:
        parameter = request.route_handler.parsed_fn_signature.parameters[key]
    except (AttributeError, KeyError):
        return key
    return getattr(parameter.kwarg_definition, "name", None) or key


def _from_invalid_values(_: Request[Any, Any, Any], exc: InvalidValues) -> Response[Problem]:
    errors = [FieldError(error.field, error.message) for error in exc.errors]
    return _from_problem(_, invalid(errors))


def _from_invalid_value(_: Request[Any, Any, Any], exc: InvalidValue) -> Response[Problem]:
    return _from_problem(_, invalid([FieldError(exc.field, exc.message)]))


def _status(status: int) -> Callable[[Request[Any, Any, Any], Exception], Response[Problem]]:
    def handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
        return problem_response(status, str(exc))

    return handler


def _unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.warning("backing service unavailable: %s: %s", type(exc).__name__, exc)
    detail = "a backing service (Postgres or Redis) is unavailable; retry shortly"
    return problem_response(503, detail, headers={"Retry-After": "5"})


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if isinstance(exc, UNAVAILABLE):
        return _unavailable(_, exc)
    log.exception("unexpected error", exc_info=exc)
    return problem_response(500, "an unexpected error occurred; it has been logged")


def exception_handlers() -> dict[Any, Any]:
    """Every exception type the API may see, mapped to its status (most specific wins)."""
    handlers: dict[Any, Any] = {
        ProblemError: _from_problem,
        ValidationException: _from_validation,
        HTTPException: _from_http,
        InvalidValues: _from_invalid_values,
        InvalidValue: _from_invalid_value,
        InvalidTransition: _status(409),
        ConcurrencyConflict: _status(409),
        NotFound: _status(404),
        PreconditionFailed: _status(412),
        Exception: _unexpected,
    }
    handlers.update(dict.fromkeys(UNAVAILABLE, _unavailable))
    return handlers
