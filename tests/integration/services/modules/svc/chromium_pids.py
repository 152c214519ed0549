"""The Chromium processes started from this slot (they hang off the Playwright driver)."""

import os

import psutil


def chromium_pids() -> list[int]:
    children = psutil.Process(os.getpid()).children(recursive=True)
    return [p.pid for p in children if "chrom" in p.name()]
