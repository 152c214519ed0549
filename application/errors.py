"""Errors of the application layer; the HTTP interface maps each to one status code."""

from __future__ import annotations


class ApplicationError(Exception):
    """A command or query that cannot be served as asked."""


class NotFound(ApplicationError):
    """No such aggregate (404)."""

    def __init__(self, kind: str, identifier: object) -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"no {kind} with id {identifier}")


class ConcurrencyConflict(ApplicationError):
    """Another writer changed the aggregate first (409 if retrying does not help)."""


class PreconditionFailed(ApplicationError):
    """The client's expected version is stale (412)."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"expected version {expected}, but the current version is {actual}")


class ServiceUnavailable(ApplicationError):
    """A backing service (Postgres, Redis) cannot be reached (503)."""
