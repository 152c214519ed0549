"""Request bodies, decoded strictly: JSON only, every field typed exactly, every error named.

Litestar's own decoding is lax (`"5"` becomes 5) and reports one error; here each field is
converted on its own with `strict=True`, so a 422 lists every bad field at once.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec
from litestar import Request

from interfaces.http.problems import FieldError, ProblemError, invalid

MAX_BODY = 1024 * 1024
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;.*)?$", re.IGNORECASE)
MAX_DEPTH = 64
MAX_REPORTED = 20
_TOO_DEEP = f"is nested more than {MAX_DEPTH} levels deep"
_PATH = re.compile(r" - at `\$(.*)`$")


async def read_json(request: Request[Any, Any, Any], *, optional: bool = False) -> Any:
    """The decoded body: 415 unless JSON, 400 when malformed, None when optional and empty."""
    raw = await request.body()
    if optional and not raw.strip():
        return None
    content_type = request.headers.get("content-type", "")
    if not _JSON_TYPE.match(content_type):
        shown = content_type or "none"
        raise ProblemError(415, f"send the body as application/json (got {shown})")
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise ProblemError(400, f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise invalid([FieldError("body", _TOO_DEEP)]) from None
    problems = storable_problems(data)
    if problems:
        raise invalid(problems)
    return data


def storable_problems(data: Any) -> list[FieldError]:
    """Values Postgres cannot store or Python cannot walk: NUL characters, deep nesting."""
    problems: list[FieldError] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack and len(problems) < MAX_REPORTED:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            problems.append(FieldError(path or "body", _TOO_DEEP))
        elif isinstance(value, str) and "\x00" in value:
            problems.append(FieldError(path or "body", "must not contain NUL (\\u0000) characters"))
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                stack.append((key, child, depth + 1))
                stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            stack += [(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    return sorted(problems, key=lambda problem: problem.field)


def decode_fields[S: msgspec.Struct](
    data: Any, kind: type[S], prefix: str = ""
) -> tuple[dict[str, Any], list[FieldError]]:
    """Field values of `kind` found in `data` (by their JSON names), and every problem."""
    if not isinstance(data, dict):
        return {}, [FieldError(prefix or "body", "must be a JSON object")]
    fields = _fields_by_json_name(kind)
    errors = [FieldError(prefix + key, "is not a known field") for key in data if key not in fields]
    values: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in data:
            if field.required:
                errors.append(FieldError(prefix + name, "is required"))
            continue
        nested = _struct_type(field.type)
        if nested is not None and isinstance(data[name], dict):
            inner, problems = decode_fields(data[name], nested, f"{prefix}{name}.")
            errors += problems
            if not problems:
                values[field.name] = nested(**inner)
            continue
        try:
            values[field.name] = msgspec.convert(data[name], field.type, strict=True)
        except msgspec.ValidationError as error:
            errors.append(_field_error(prefix + name, error))
    return values, errors


@cache
def _fields_by_json_name(kind: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    """Computed once per type: msgspec re-evaluates every annotation on each call."""
    return {field.encode_name: field for field in msgspec.structs.fields(kind)}


def decode_struct[S: msgspec.Struct](data: Any, kind: type[S]) -> S:
    """`kind` built from `data`, or a 422 naming every invalid field."""
    values, errors = decode_fields(data, kind)
    if errors:
        raise invalid(errors)
    return kind(**values)


def _struct_type(annotation: Any) -> type[msgspec.Struct] | None:
    """The Struct in `X`, `X | None` or `X | UnsetType`, if any."""
    candidates = getattr(annotation, "__args__", (annotation,))
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return candidate
    return None


def _field_error(name: str, error: msgspec.ValidationError) -> FieldError:
    """msgspec says `Expected int, got str - at $[0]`; the field path goes in front."""
    text = str(error)
    match = _PATH.search(text)
    if match is None:
        return FieldError(name, _lower_first(text))
    return FieldError(name + match.group(1), _lower_first(text[: match.start()]))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
