"""The modules on MODULES_PATH: manifests, handler files and event schemas.

A bad manifest is reported with its path and field and skipped; the other modules load.
Handler paths resolve inside their module folder, symlinks included.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from application.dependencies import JobDefaults
from domain.errors import InvalidValue
from domain.job_definition import JobDefinition, validate_handler_path
from domain.module import ModuleManifest
from infrastructure.modules.manifest import ManifestError, read_manifest

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class LoadedModule:
    manifest: ModuleManifest
    jobs: tuple[JobDefinition, ...]
    folder: Path  # resolved (symlinks followed)

    @property
    def name(self) -> str:
        return self.manifest.name

    def handler_files(self) -> list[str]:
        """Python files a job may name as its handler, relative to the module folder."""
        files = (p for p in self.folder.rglob("*.py") if "__pycache__" not in p.parts)
        return sorted(str(p.relative_to(self.folder)) for p in files)


@dataclass
class FilesystemModuleCatalog:
    """Implements application.ports.ModuleCatalog over folders on disk."""

    roots: Sequence[Path]
    defaults: JobDefaults = field(default_factory=JobDefaults)
    modules: dict[str, LoadedModule] = field(default_factory=dict)
    problems: list[ManifestError] = field(default_factory=list)

    def load(self) -> FilesystemModuleCatalog:
        """Scan every root: each sub-folder with a manifest.json is a module."""
        self.modules, self.problems = {}, []
        for manifest_path in self._manifest_paths():
            try:
                manifest, jobs = read_manifest(manifest_path, self.defaults)
            except ManifestError as problem:
                log.error("skipping module: %s", problem)
                self.problems.append(problem)
                continue
            except OSError as error:
                self.problems.append(ManifestError(manifest_path, "$", str(error)))
                continue
            if manifest.name in self.modules:
                message = f"module {manifest.name!r} is already loaded from another folder"
                self.problems.append(ManifestError(manifest_path, "name", message))
                continue
            # Resolved once: every run checks its handler against this real path.
            folder = manifest_path.parent.resolve()
            self.modules[manifest.name] = LoadedModule(manifest, jobs, folder)
        return self

    def problems_with_handler(self, module_id: str, handler: str) -> list[tuple[str, str]]:
        module = self.modules.get(module_id)
        if module is None:
            known = ", ".join(sorted(self.modules)) or "none are loaded"
            return [("moduleId", f"unknown module {module_id!r} (known: {known})")]
        try:
            self.handler_file(module_id, handler)
        except InvalidValue as error:
            return [(error.field, error.message)]
        return []

    def handler_file(self, module_id: str, handler: str) -> Path:
        """The absolute handler file, guaranteed to lie inside its module folder."""
        module = self.modules.get(module_id)
        if module is None:
            raise InvalidValue("moduleId", f"unknown module {module_id!r}")
        validate_handler_path(handler)
        target = (module.folder / handler).resolve()
        if not target.is_relative_to(module.folder):
            raise InvalidValue("handler", "resolves outside its module folder")
        if not target.is_file():
            raise InvalidValue("handler", f"no file {handler!r} in module {module_id!r}")
        return target

    def module_folder(self, module_id: str) -> Path:
        module = self.modules.get(module_id)
        if module is None:
            raise InvalidValue("moduleId", f"unknown module {module_id!r}")
        return module.folder

    def event_schema_problems(self, name: str, payload: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for module in self.modules.values():
            schema = module.manifest.event_schemas.get(name)
            if schema is None:
                continue
            validator = jsonschema.Draft202012Validator(schema)
            for error in sorted(validator.iter_errors(payload), key=lambda e: list(e.path)):
                where = ".".join(str(part) for part in error.absolute_path)
                problems.append((f"payload.{where}" if where else "payload", error.message))
        return problems

    def _manifest_paths(self) -> list[Path]:
        found: list[Path] = []
        for root in self.roots:
            if (root / MANIFEST).is_file():
                found.append(root / MANIFEST)
            elif root.is_dir():
                found.extend(sorted(root.glob(f"*/{MANIFEST}")))
            else:
                log.warning("MODULES_PATH entry %s is not a folder", root)
        return found
