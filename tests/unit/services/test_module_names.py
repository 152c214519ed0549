"""Module schema and role names, and the module's connection URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from infrastructure.handler_services.module_database import (
    ModuleDatabaseError,
    ModuleNames,
    module_names,
    module_url,
)


def test_dashes_become_underscores() -> None:
    assert module_names("daily-report") == ModuleNames(
        "mod_daily_report", "almanac_mod_daily_report"
    )


def test_long_names_fit_postgres_and_stay_distinct() -> None:
    first, second = module_names("a" * 62 + "1"), module_names("a" * 62 + "2")
    assert max(len(first.schema), len(first.role), len(second.role)) <= 63
    assert first.role != second.role
    assert first.role.startswith("almanac_mod_aaaa")


@pytest.mark.parametrize("bad", ["", "Upper", "semi;colon", 'quo"te', "-leading"])
def test_only_module_names_are_accepted(bad: str) -> None:
    with pytest.raises(ModuleDatabaseError):
        module_names(bad)


def test_the_url_keeps_the_server_and_sets_role_password_and_search_path() -> None:
    names = module_names("my-mod")
    url = module_url(
        "postgresql://almanac:main@db.example:6543/almanac?sslmode=require&options=-cx%3Dy",
        names,
        "p/w+d",
    )
    parts = urlsplit(url)
    assert (parts.username, parts.password) == ("almanac_mod_my_mod", "p%2Fw%2Bd")
    assert (parts.hostname, parts.port, parts.path) == ("db.example", 6543, "/almanac")
    query = parse_qs(parts.query)
    assert query == {"sslmode": ["require"], "options": ["-csearch_path=mod_my_mod"]}
