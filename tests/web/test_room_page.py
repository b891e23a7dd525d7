"""/teacher/room in a real browser against two real kits: the teacher types the other kit's
address, reads the code on that kit's screen, types it, and sees the kit listed and checked
with its live status — no request leaves 127.0.0.1 and the page logs no error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import start_server

PIN = "24681357"


@pytest.mark.slow   # two `labkit serve` processes and a browser: well over 10 s on 2 cores
def test_pairing_and_checking_a_kit_from_the_room_page(page: Any, tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        lead, kit = pool.map(lambda d: start_server(d, timeout=120),
                             [tmp_path / "lead" / "data", tmp_path / "kit" / "data"])
    try:
        page.set_default_timeout(90_000)
        page.goto(lead.url + "/teacher")
        page.fill("input[name=pin]", PIN)
        page.fill("input[name=confirm]", PIN)
        page.click("form[action='/teacher/setup'] button[type=submit]")
        page.wait_for_load_state()
        page.goto(lead.url + "/teacher/room")
        page.wait_for_selector("#room-members tbody tr")
        assert "还没有配对任何 AI 小盒子" in page.inner_text("#room-members")
        page.fill("#room-address", f"127.0.0.1:{kit.port}")
        page.click("#room-add button[type=submit]")
        page.wait_for_selector("#room-code", state="visible")
        code = requests.get(kit.url + "/room/pairing?format=json",
                            timeout=60).json()["pairing"]["code"]
        page.fill("#room-code-input", code)
        page.click("#room-code button[type=submit]")
        page.wait_for_selector("#room-members tbody tr[data-kit]")
        page.click("#room-status")
        page.wait_for_function(
            "document.querySelector('#room-members tbody tr[data-kit] td:nth-child(5)')"
            ".textContent.length > 0")
        row = page.inner_text("#room-members tbody tr[data-kit]")
        assert "127.0.0.1" in row and "v0." in row, row
        # added by address (no zeroconf): its live status comes from its signed status,
        # each fact an icon and words
        status = page.locator("#room-members tbody tr[data-kit] td:nth-child(3)")
        words = status.inner_text()
        assert "在线" in words and "没有正在进行的实验" in words and "磁盘剩余" in words, words
        assert status.locator("li[data-fact=camera][data-state=ok] svg use").count() == 1
        assert page.watch.external == [] and page.watch.page_errors == []
        assert page.watch.console_errors == []
    finally:
        lead.stop()
        kit.stop()
