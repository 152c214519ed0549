"""Module queries: rm_modules, plus the handler files found in each module's folder."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from application.views import ModuleView


class PostgresModuleQueries:
    """Implements application.queries.ModuleQueries."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def list_modules(self) -> Sequence[ModuleView]:
        records = await self._pool.fetch(
            "SELECT name, version, path, enabled, jobs FROM rm_modules ORDER BY name"
        )
        handlers = await asyncio.to_thread(lambda: [handler_files(r["path"]) for r in records])
        return [
            ModuleView(
                name=record["name"],
                version=record["version"],
                path=record["path"],
                enabled=record["enabled"],
                jobs=tuple(record["jobs"]),
                handlers=files,
            )
            for record, files in zip(records, handlers, strict=True)
        ]


def handler_files(folder: str) -> tuple[str, ...]:
    """The .py files under `folder`, relative and sorted, skipping __pycache__ (none if gone)."""
    root = Path(folder)
    if not root.is_dir():
        return ()
    return tuple(
        sorted(
            path.relative_to(root).as_posix()
            for path in root.rglob("*.py")
            if "__pycache__" not in path.relative_to(root).parts and path.is_file()
        )
    )
