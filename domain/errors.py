"""Errors raised by the domain model; each names what was refused and why."""

from __future__ import annotations


class DomainError(Exception):
    """A command that the model refuses."""


class InvalidTransition(DomainError):
    """A command is not allowed from the aggregate's current state."""

    def __init__(self, aggregate: str, action: str, state: str, detail: str = "") -> None:
        self.aggregate = aggregate
        self.action = action
        self.state = state
        message = f"cannot {action} {aggregate} in state {state}"
        super().__init__(f"{message}: {detail}" if detail else message)


class InvalidValue(DomainError):
    """A value object was given something it cannot represent."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class InvalidValues(DomainError):
    """Several fields are invalid at once; every one is named."""

    def __init__(self, errors: list[InvalidValue]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))
