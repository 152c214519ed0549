"""Register the modules found on MODULES_PATH (idempotent: deterministic ids, no-op repeats)."""

from __future__ import annotations

import logging

from application.commands import RegisterModule
from application.modules import register_module
from infrastructure.handler_services.module_database import ensure_module_database
from interfaces.bootstrap.runtime import Runtime

log = logging.getLogger(__name__)
ACTOR = "module-sync"


async def register_all(runtime: Runtime) -> int:
    """Register every loaded module and its jobs; report bad manifests. Returns the position."""
    for problem in runtime.catalog.problems:
        log.error("module not loaded: %s", problem)
    position = 0
    for module in runtime.catalog.modules.values():
        # Each module gets its own schema and role when it is registered.
        await ensure_module_database(runtime.pool, module.name, runtime.database_url)
        command = RegisterModule(module.manifest, module.jobs, ACTOR)
        outcome = await register_module(command, runtime.deps)
        position = max(position, outcome.position)
        if outcome.changed:
            log.info("registered module %s with %d jobs", module.name, len(module.jobs))
    return position
