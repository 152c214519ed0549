"""OpenAPI: request bodies we decode ourselves, documented error responses, the config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody

from interfaces.http.problems import PROBLEM_JSON, Problem
from interfaces.http.reference import ReferencePage

_PREFIX = "#/components/schemas/"
_REF = _PREFIX + "{name}"
_DESCRIPTIONS = {
    400: "Malformed request: the body is not valid JSON",
    404: "No such resource",
    409: "Not allowed in the resource's current state",
    412: "If-Match names a stale version",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Invalid fields or query parameters; `errors` names each one",
    429: "Rate limited; see Retry-After",
    503: "Postgres or Redis is unavailable",
}


DESCRIPTION = (
    "Event-sourced job scheduling: jobs, executions, events, live streams. "
    "JSON in camelCase, times ISO-8601 UTC, durations in ms. Lists return "
    "{items, nextCursor}; pass nextCursor back as cursor. After a command, the same "
    "client's next GET shows it. Errors are application/problem+json; a 422 lists every "
    "invalid field or query parameter in errors[]. A malformed id in a path names no "
    "resource: 404. Jobs carry an ETag (their version); send it as If-Match on PUT or "
    "DELETE to get 412 instead of overwriting someone else's change."
)


def body_operation(kind: type[msgspec.Struct], *, required: bool = True) -> type[Operation]:
    """An Operation documenting `kind` as the JSON body (the handler decodes it itself)."""

    @dataclass
    class WithBody(Operation):
        def __post_init__(self) -> None:
            media = OpenAPIMediaType(schema=inline_schema(kind))  # type: ignore[arg-type]
            self.request_body = RequestBody(content={"application/json": media}, required=required)

    return WithBody


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem responses for `statuses`, plus 400 and 503 (any route; it also replaces
    Litestar's own 400 schema, which this API never sends)."""
    return {
        status: ResponseSpec(Problem, description=_DESCRIPTIONS[status], media_type=PROBLEM_JSON)
        for status in sorted({400, *statuses, 503})
    }


def inline_schema(kind: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema of `kind` with nested definitions inlined (Litestar owns components)."""
    (schema,), definitions = msgspec.json.schema_components([kind], ref_template=_REF)
    inlined: dict[str, Any] = _inlined(schema, definitions)
    return inlined


def _inlined(value: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        reference = value.get("$ref")
        if isinstance(reference, str) and reference.startswith(_PREFIX):
            return _inlined(definitions[reference.removeprefix(_PREFIX)], definitions)
        return {key: _inlined(item, definitions) for key, item in value.items()}
    if isinstance(value, list):
        return [_inlined(item, definitions) for item in value]
    return value


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Almanac API",
        version="1.0.0",
        description=DESCRIPTION,
        path="/docs",
        use_handler_docstrings=True,
        render_plugins=[ReferencePage(path="/api")],
    )
