"""Entry point of a handler slot process (`python -m interfaces.bootstrap.slot`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from infrastructure.worker.child import run_child
from infrastructure.worker.protocol import Run


def extra_services(run: Run) -> dict[str, Any]:
    """Services beyond logger/events/http/database, per attempt (browser, notifications)."""
    del run
    return {}


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_child(extra_services))


if __name__ == "__main__":
    main()
