"""The dependency rule and the packaging rules, checked on every test run."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest
from importlinter import cli

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "application", "infrastructure", "interfaces", "web")
DOMAIN_MAY_IMPORT = ("domain", "eventsourcing.domain", "croniter")


def test_the_import_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert cli.lint_imports(no_cache=True) == 0


def test_import_linter_rejects_a_domain_module_that_imports_another_layer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = REPO / "domain" / "_layer_violation_probe.py"
    bad.write_text("from application import errors  # deliberately breaks the rule\n")
    monkeypatch.chdir(REPO)
    try:
        assert cli.lint_imports(no_cache=True) == 1
    finally:
        bad.unlink()


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((REPO / "domain").glob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_only_the_standard_library_and_its_kernel(path: Path) -> None:
    outside = {
        name
        for name in imports_of(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith(DOMAIN_MAY_IMPORT)
    }
    assert outside == set()


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_is_ours_and_lives_in_this_repository(package: str) -> None:
    module = importlib.import_module(package)
    assert Path(str(module.__file__)).resolve().is_relative_to(REPO)


def reads_environment(node: ast.AST) -> bool:
    return any(
        isinstance(inner, ast.Attribute) and inner.attr in ("environ", "getenv")
        for inner in ast.walk(node)
    )


def test_no_settings_are_read_at_import_time() -> None:
    """Module-level code never reads the environment: settings are built at start-up."""
    deferred = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    offenders = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        for node in ast.parse(path.read_text()).body
        if not isinstance(node, deferred) and reads_environment(node)
    ]
    assert offenders == []
