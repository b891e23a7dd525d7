"""The lab page parts in Chromium: a student moves the colour lab's smallest-patch slider and
the red ball the kit was tracking is no longer found (moving it back finds it again); the
waste-sorting lab shows its sorter's two confusion matrices.

The real app runs in-process (tests/conftest.py InProcessServer) so the synthetic camera can
show a fixed scene of three balls.
"""

from __future__ import annotations

from typing import Any

import pytest

from labkit.drivers import scenes
from labkit.store import Store

# slow: Chromium and an in-process server (about 15 s on an idle machine)
pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: how long a wait that follows the lab's start may take
START_MS = 120_000


def signal(page: Any, name: str) -> str:
    return page.evaluate(f"(document.getElementById('signal-{name}') || {{}}).textContent || ''")


def test_moving_a_slider_changes_the_detection(inproc_server: Any, page: Any) -> None:
    runtime = inproc_server.runtime
    roster = Store.for_runtime(runtime).roster
    school_class = roster.add_class("初一（2）班")
    roster.add_student(school_class.id, "张伟")
    runtime.camera.play(lambda t: scenes.render("balls", {"colours": ["red", "green", "blue"]}, t))
    try:
        page.goto(inproc_server.url + "/labs/colour_tracking")
        page.locator(".pick-button", has_text="初一（2）班").click()
        page.locator(".pick-button", has_text="张伟").click()
        page.wait_for_selector("#lab-start")
        slider = page.locator("#slider-red-min_area")
        assert slider.is_disabled()                     # nothing to change before the start
        page.click("#lab-start")
        # waits that follow the start are generous: a loaded machine starts a lab slowly, and
        # what is checked here is what the page does, not how fast
        page.wait_for_selector("#slider-red-min_area:not([disabled])", timeout=START_MS)
        page.wait_for_function("(document.getElementById('signal-seen') || {}).className"
                               " === 'signal is-on'", timeout=20000)
        # the slider shows the tracker's own value, read from the running lab
        page.wait_for_function("document.getElementById('slider-red-min_area').value === '0.002'",
                               timeout=5000)
        slider.focus()
        slider.press("End")                              # the largest smallest-patch: 10 %
        page.wait_for_function("document.getElementById('part-sliders-red').dataset.applied"
                               " === '1'", timeout=10000)
        page.wait_for_function("!document.getElementById('signal-seen').classList"
                               ".contains('is-on')", timeout=15000)
        assert page.locator("#slider-red-min_area + output").inner_text() == "0.1"
        slider.press("Home")                             # 0: every patch counts again
        page.wait_for_function("document.getElementById('signal-seen').classList"
                               ".contains('is-on')", timeout=15000)
        assert page.watch.console_errors == [] and page.watch.page_errors == []
        assert page.watch.external == []
    finally:
        runtime.camera.play(None)


def test_the_sorters_report_card_shows_both_confusion_matrices(inproc_server: Any,
                                                               page: Any) -> None:
    runtime = inproc_server.runtime
    roster = Store.for_runtime(runtime).roster
    school_class = roster.add_class("初二（1）班")
    roster.add_student(school_class.id, "陈静")
    runtime.camera.play(lambda t: scenes.render("waste", {"item": "bottle", "variant": 41}, t))
    try:
        page.goto(inproc_server.url + "/labs/waste_sorting")
        page.locator(".pick-button", has_text="初二（1）班").click()
        page.locator(".pick-button", has_text="陈静").click()
        page.wait_for_selector("#lab-start")
        assert page.locator('#part-confusion-sorter [data-test="seen"]').is_hidden()
        page.click("#lab-start")
        rows = '#part-confusion-sorter [data-test="{}"] tbody tr'
        # the sorter learns its examples when the lab starts (seconds idle, a minute under load)
        page.wait_for_function(f"document.querySelectorAll('{rows.format('seen')}').length === 5",
                               timeout=START_MS)
        assert page.locator(rows.format("unseen")).count() == 5
        heads = page.locator('#part-confusion-sorter [data-test="seen"] thead th').all_inner_texts()
        assert heads[1:] == ["可回收物", "厨余垃圾", "有害垃圾", "其他垃圾", "什么也没有"]
        # the kinds it never saw: no better than guessing, and the page says so
        assert page.locator('#part-confusion-sorter [data-test="unseen"] [data-warning]').is_visible()
        # the mistakes are listed in words: which item, its true bin, the kit's answer
        first = page.locator('#part-confusion-sorter [data-test="unseen"] [data-mistakes] li').first
        assert "其实是" in first.inner_text()
        # and the bottle in view is sorted as recyclable
        page.wait_for_function("((document.getElementById('signal-bin') || {}).textContent"
                               " || '').endsWith('recyclable')", timeout=30000)
        assert page.watch.console_errors == [] and page.watch.page_errors == []
    finally:
        runtime.camera.play(None)
