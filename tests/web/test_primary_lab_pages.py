"""Primary-band lab pages in Chromium: the page parts a lab asks for, under its demo.

A student stands in front of the magic mirror (the simulated camera's face walks in and out):
two ready-made pictures, then a saved drawing of their own, and the steps turn green.
On the Move! page the big counter shows the lab's counts as tiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.helpers import LiveServer, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PIN = "864200"


@pytest.fixture
def kit(tmp_path: Path, model_store: Any) -> Iterator[LiveServer]:
    data = tmp_path / "kit" / "data"
    data.mkdir(parents=True)
    (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    server = start_server(data)
    server.data_dir = data
    yield server
    server.stop()


def as_teacher(page: Any, url: str) -> None:
    page.goto(url + "/teacher")
    page.fill("#pin", PIN)
    page.fill("#confirm", PIN)
    page.click("#pin-submit")
    page.wait_for_load_state()


def test_move_shows_the_lab_counts_big(inproc_server: Any, page: Any) -> None:
    """The counter part draws each number the running lab logs as a tile, labelled from the
    lab's signals; true/false signals and other lessons' signals stay out of it. (The demo
    turning every step green is played on a simulated clock by tests/labs: in real time a
    busy test machine drops the frames a rep needs.)"""
    from labkit.store import Store
    from tests.helpers import pick_a_name

    bus = inproc_server.runtime.bus
    pick_a_name(page, inproc_server.url, store=Store.for_runtime(inproc_server.runtime))
    page.goto(inproc_server.url + "/labs/move_counter")
    page.wait_for_selector("#counter-panel")
    assert page.locator("#camera-view").count() == 1
    assert page.locator("#counter-tiles .counter-tile").count() == 0
    page.wait_for_timeout(500)     # the page's event stream is open
    for name, value, lesson in (("arm_count", 1.0, "move_counter"), ("arms_up", True, "move_counter"),
                                ("squat_count", 7.0, "face_led"), ("arm_count", 3.0, "move_counter")):
        bus.publish("lab.signal", {"lesson": lesson, "project": lesson, "name": name,
                                   "value": value, "run_id": None, "token": "t"})
    page.wait_for_function(
        "document.querySelector('#count-arm_count .counter-number')?.textContent === '3'",
        timeout=15000)
    assert page.locator("#count-arm_count .counter-label").inner_text() == "举手次数"
    assert page.locator("#counter-tiles .counter-tile").count() == 1
    assert page.locator("#counter-empty").is_hidden()
    assert page.watch.console_errors == [] and page.watch.page_errors == []
    assert page.watch.external == []


def test_the_magic_mirror_swaps_the_background_for_pictures_and_a_drawing(
        kit: LiveServer, page: Any, tmp_path: Path) -> None:
    import cv2
    import numpy as np

    from tests.helpers import pick_a_name

    pick_a_name(page, kit.url, data_dir=kit.data_dir)
    page.goto(kit.url + "/labs/magic_mirror")
    page.wait_for_selector("#mirror-panel")
    assert page.locator(".mirror-pick").count() == 4
    page.click("#mirror-save")                      # no file, no run: said next to the button
    assert page.locator("#mirror-error").is_visible()
    page.click("#lab-start")
    page.wait_for_selector("#step-found.passed", timeout=30000)
    page.wait_for_function("document.getElementById('mirror-view').naturalWidth > 0",
                           timeout=15000)
    page.click("#mirror-pick-sea")
    page.wait_for_selector("#step-first.passed", timeout=30000)
    page.click("#mirror-pick-space")
    page.wait_for_selector("#step-second.passed", timeout=30000)
    drawing = tmp_path / "drawing.png"
    img = np.full((240, 320, 3), (40, 200, 250), np.uint8)
    cv2.circle(img, (160, 120), 60, (200, 40, 200), -1)
    cv2.imwrite(str(drawing), img)
    page.set_input_files("#mirror-file", str(drawing))
    page.click("#mirror-save")
    page.wait_for_selector("#mirror-drawings .mirror-pick")
    assert page.locator("#mirror-drawings .mirror-pick").inner_text() == "我的画 1"
    page.click("#mirror-drawings .mirror-pick")
    page.wait_for_selector("#step-drawing.passed", timeout=30000)
    assert page.watch.console_errors == [] and page.watch.page_errors == []
    assert page.watch.external == []
