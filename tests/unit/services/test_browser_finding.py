"""Which Chromium the browser service launches, and what it says when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrastructure.handler_services.browser import BrowserUnavailable, find_chromium


def executable(path: Path) -> str:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def no_system(_name: str) -> str | None:
    return None


def test_the_configured_path_wins(tmp_path: Path) -> None:
    configured = executable(tmp_path / "mine")
    bundled = executable(tmp_path / "bundled")
    assert find_chromium(configured, bundled, lambda _n: "/usr/bin/chromium") == configured


def test_then_playwrights_own_then_the_systems(tmp_path: Path) -> None:
    bundled = executable(tmp_path / "bundled")
    assert find_chromium(None, bundled, lambda _n: "/usr/bin/chromium") == bundled
    missing = str(tmp_path / "not-installed")
    assert find_chromium(None, missing, lambda n: f"/usr/bin/{n}") == "/usr/bin/chromium"


def test_a_bad_configured_path_is_named(tmp_path: Path) -> None:
    not_executable = tmp_path / "plain"
    not_executable.write_text("")
    with pytest.raises(
        BrowserUnavailable, match=r"ALMANAC_CHROMIUM=.*plain.* is not an executable"
    ):
        find_chromium(str(not_executable), None, lambda _n: "/usr/bin/chromium")


def test_none_at_all_says_how_to_install_one() -> None:
    with pytest.raises(BrowserUnavailable) as raised:
        find_chromium(None, None, no_system)
    message = str(raised.value)
    assert "apt-get install -y chromium" in message
    assert "playwright install chromium" in message
    assert "ALMANAC_CHROMIUM" in message
