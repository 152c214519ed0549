"""services.browser in real slots: Chromium loads a local page; no browser outlives its attempt."""

from __future__ import annotations

import asyncio
import time

import psutil
import pytest

from application.worker import HandlerStatus, StopReason, StopSignal
from infrastructure.handler_services.browser import BrowserLimitReached, BrowserService
from tests.integration.services.conftest import MODULES, slots
from tests.integration.services.servers import http_server

FOLDER = MODULES / "svc"


def alive(pids: list[int]) -> list[int]:
    """Pids still running (a zombie is dead; this machine's init reaps them late)."""
    running = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                running.append(pid)
        except psutil.NoSuchProcess:
            pass
    return running


async def gone(pids: list[int], within: float = 5.0) -> list[int]:
    deadline = time.monotonic() + within
    while alive(pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return alive(pids)


async def test_a_handler_extracts_data_from_a_local_page() -> None:
    with http_server() as web:
        async with slots(FOLDER) as pool:
            result = await pool.run("jobs/browser_extract.py", {"url": f"{web.url}/report"})
    assert result.status is HandlerStatus.COMPLETED, result.error
    assert result.result["title"] == "Almanac test page"
    assert result.result["text"] == "42 widgets shipped"
    assert result.result["htmlLength"] > 100


async def test_a_browser_left_open_is_closed_when_the_attempt_ends() -> None:
    with http_server() as web:
        async with slots(FOLDER) as pool:
            result = await pool.run("jobs/browser_left_open.py", {"url": web.url})
            assert result.status is HandlerStatus.COMPLETED, result.error
            pids = result.result["pids"]
            assert pids, "the handler saw no Chromium process"
            assert result.result["text"] == "42 widgets shipped"
            assert await gone(pids) == []


async def test_a_timeout_kills_the_slot_and_its_browser() -> None:
    async with slots(FOLDER) as pool:
        result = await pool.run("jobs/browser_stuck.py", {"mode": "spin"}, timeout_ms=4000)
        assert result.status is HandlerStatus.TIMED_OUT
        [fields] = pool.logged("browser up")
        assert fields["pids"]
        assert await gone(fields["pids"]) == []


async def test_a_cancel_stops_the_handler_and_closes_its_browser() -> None:
    async with slots(FOLDER) as pool:
        stop = StopSignal()
        running = asyncio.create_task(pool.run("jobs/browser_stuck.py", stop=stop))
        while not pool.logged("browser up"):
            assert not running.done(), running.result()
            await asyncio.sleep(0.05)
        stop.stop(StopReason.CANCEL)
        result = await running
        assert result.status is HandlerStatus.STOPPED
        assert await gone(pool.logged("browser up")[0]["pids"]) == []


async def test_without_chromium_the_attempt_says_how_to_install_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("ALMANAC_CHROMIUM", "/nonexistent/chromium")
    async with slots(FOLDER) as pool:
        result = await pool.run("jobs/browser_extract.py", {"url": "data:text/html,x"})
    assert result.status is HandlerStatus.FAILED
    assert result.error is not None
    assert result.error.type.endswith("BrowserUnavailable")
    assert "ALMANAC_CHROMIUM" in result.error.message
    assert "apt-get install -y chromium" in result.error.message


async def test_browsers_per_slot_are_capped_and_closed_together() -> None:
    service = BrowserService(max_browsers=2)
    try:
        first = await service.launch(headless=True)
        await service.launch({"headless": True, "args": ["--mute-audio"]})
        with pytest.raises(BrowserLimitReached, match="ALMANAC_MAX_BROWSERS"):
            await service.launch()
        await first.close()
        assert service.open_browsers == 1
        third = await service.launch()
        assert third.is_connected()
        await service.close_all()
        assert service.open_browsers == 0
        assert not third.is_connected()
    finally:
        await service.aclose()
