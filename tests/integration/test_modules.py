"""Modules on disk: bad manifests are reported, handler paths stay inside their module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.errors import InvalidValue
from infrastructure.modules.catalog import FilesystemModuleCatalog


def write_module(root: Path, folder: str, manifest: object, files: dict[str, str]) -> Path:
    module = root / folder
    module.mkdir(parents=True)
    (module / "manifest.json").write_text(json.dumps(manifest))
    for name, text in files.items():
        (module / name).parent.mkdir(parents=True, exist_ok=True)
        (module / name).write_text(text)
    return module


def good_manifest(name: str) -> dict[str, object]:
    return {
        "name": name,
        "version": "1.0.0",
        "jobs": [{"name": "Sync", "handler": "jobs/sync.py", "schedule": "0 * * * *"}],
    }


def test_a_bad_manifest_is_reported_with_its_path_and_field_and_the_others_load(
    tmp_path: Path,
) -> None:
    write_module(tmp_path, "good", good_manifest("good"), {"jobs/sync.py": "def handler(c): 1"})
    broken = good_manifest("broken")
    broken["jobs"] = [{"name": "Sync", "handler": "jobs/sync.py", "timeout": "soon"}]
    bad = write_module(tmp_path, "broken", broken, {"jobs/sync.py": ""})

    catalog = FilesystemModuleCatalog([tmp_path]).load()

    assert list(catalog.modules) == ["good"]
    [problem] = catalog.problems
    assert problem.path == bad / "manifest.json"
    assert problem.field == "jobs[0].timeout"
    assert "int" in problem.message


def test_an_invalid_cron_in_a_manifest_names_the_job_field(tmp_path: Path) -> None:
    manifest = good_manifest("cron")
    manifest["jobs"] = [{"name": "Sync", "handler": "jobs/sync.py", "schedule": "61 * * * *"}]
    write_module(tmp_path, "cron", manifest, {"jobs/sync.py": ""})

    [problem] = FilesystemModuleCatalog([tmp_path]).load().problems

    assert problem.field == "jobs[0].schedule"


@pytest.mark.parametrize("handler", ["../outside.py", "/etc/passwd.py", "jobs/../../x.py"])
def test_a_handler_path_escaping_its_module_is_rejected(tmp_path: Path, handler: str) -> None:
    write_module(tmp_path, "mod", good_manifest("mod"), {"jobs/sync.py": ""})
    (tmp_path / "outside.py").write_text("def handler(c): 1")
    catalog = FilesystemModuleCatalog([tmp_path]).load()

    problems = catalog.problems_with_handler("mod", handler)

    assert [field for field, _ in problems] == ["handler"]
    with pytest.raises(InvalidValue):
        catalog.handler_file("mod", handler)


def test_a_symlink_leading_out_of_the_module_is_rejected(tmp_path: Path) -> None:
    module = write_module(tmp_path, "mod", good_manifest("mod"), {"jobs/sync.py": ""})
    secret = tmp_path / "secret.py"
    secret.write_text("def handler(c): 1")
    (module / "jobs" / "link.py").symlink_to(secret)
    catalog = FilesystemModuleCatalog([tmp_path]).load()

    assert catalog.problems_with_handler("mod", "jobs/link.py") == [
        ("handler", "resolves outside its module folder")
    ]


def test_an_unknown_module_names_the_module_field(tmp_path: Path) -> None:
    catalog = FilesystemModuleCatalog([tmp_path]).load()

    [(field, message)] = catalog.problems_with_handler("nope", "jobs/a.py")

    assert field == "moduleId"
    assert "unknown module 'nope'" in message
