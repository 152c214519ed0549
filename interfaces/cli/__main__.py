"""`python -m interfaces.cli` runs the almanac command (used by `almanac up` for its roles)."""

from __future__ import annotations

from interfaces.cli.main import main

main()
