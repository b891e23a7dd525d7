"""Teach the kit in Chromium: a student records two things (big button, then the kit's own
button on the bench), trains their /learn image project and asks what the kit sees; the
answers differ for the two things and every step turns green; the kit says each answer and
its LED answers too (on for the first thing taught, off for the second). The camera plays
generated scenes of the two kinds of objects (red balls, yellow cards)."""

from __future__ import annotations

import threading

import time
from typing import Any

import pytest

from labkit.drivers.scenes import render

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BALLS = {"colours": ["red"]}
CARDS = {"shapes": ["square"]}


def show(rt: Any, scene: str, params: dict) -> None:
    """Play `scene` and wait until the camera has captured it: a picture recorded right after
    the switch must not be the previous scene (two classes of the same thing)."""
    shown = threading.Event()

    def frame(t: float) -> Any:
        shown.set()
        return render(scene, params, t)

    rt.camera.play(frame)
    assert shown.wait(10), "the camera did not show the scene"
    first = rt.camera.read()
    start = first.seq if first is not None else 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:     # two more frames: the switch is in the newest one
        latest = rt.camera.read()
        if latest is not None and latest.seq >= start + 2:
            return
        time.sleep(0.02)
    raise AssertionError("the camera did not capture the new scene")


def press_the_kits_button(page: Any, rt: Any, count_id: str, before: int) -> None:
    rt.bench.apply({"device": "button", "action": "press"})
    page.wait_for_function(f"Number(document.getElementById('{count_id}').textContent) > {before}",
                           timeout=30000)
    rt.bench.apply({"device": "button", "action": "release"})


def guess_until(page: Any, label: str, tries: int = 20) -> None:
    """Press "What do you see?" until the kit answers `label`: the camera's newest frame may
    still be the previous scene for a moment on a busy machine."""
    for _ in range(tries):
        page.evaluate("document.getElementById('teach-answer').dataset.label = '?'")
        page.click("#teach-guess")
        page.wait_for_function("document.getElementById('teach-answer').dataset.label !== '?'",
                               timeout=30000)
        if page.get_attribute("#teach-answer", "data-label") == label:
            break
        page.wait_for_timeout(300)
    else:
        raise AssertionError(f"the kit never answered {label!r}")
    for _ in range(3):     # and keeps answering it: not a lucky guess
        page.evaluate("document.getElementById('teach-answer').dataset.label = '?'")
        page.click("#teach-guess")
        page.wait_for_function("document.getElementById('teach-answer').dataset.label !== '?'",
                               timeout=30000)
        assert page.get_attribute("#teach-answer", "data-label") == label


def led_becomes(rt: Any, lit: bool) -> None:
    """The running lab drives the LED from the newest answer (on its next frame)."""
    deadline = time.monotonic() + 10
    while bool(rt.kit.led.value) != lit:
        assert time.monotonic() < deadline, f"the LED did not turn {'on' if lit else 'off'}"
        time.sleep(0.05)


def test_a_child_teaches_the_kit_two_things(inproc_server: Any, page: Any, model_store: Any,
                                            data_dir: Any) -> None:
    from labkit.store import Store
    from tests.helpers import pick_a_name

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    rt = inproc_server.runtime
    show(rt, "balls", BALLS)
    pick_a_name(page, inproc_server.url, store=Store.for_runtime(rt))
    page.goto(inproc_server.url + "/labs/teach_the_kit")
    page.wait_for_selector("#teach-panel")
    page.click("#lab-start")
    page.wait_for_selector("#step-show.passed", timeout=30000)
    page.fill("#teach-name-0", "球")
    page.fill("#teach-name-1", "卡片")
    page.click("#teach-record-0")
    page.wait_for_function("document.getElementById('teach-count-0').textContent === '1'",
                           timeout=30000)
    for n in (1, 2):
        press_the_kits_button(page, rt, "teach-count-0", n)
    show(rt, "cards", CARDS)
    page.click("#teach-record-1")
    page.wait_for_function("document.getElementById('teach-count-1').textContent === '1'",
                           timeout=30000)
    for n in (1, 2):
        press_the_kits_button(page, rt, "teach-count-1", n)
    page.wait_for_selector("#step-pictures.passed", timeout=30000)
    page.click("#teach-train")
    page.wait_for_selector("#step-learn.passed", timeout=90000)
    guess_until(page, "卡片")
    led_becomes(rt, False)                    # the second thing: the light is off
    show(rt, "balls", BALLS)
    guess_until(page, "球")
    led_becomes(rt, True)                     # the first thing: the light is on
    page.wait_for_selector("#step-answer.passed", timeout=30000)
    deadline = time.monotonic() + 15          # the answer is said aloud (espeak-ng, async)
    while not any("球" in (p["text"] or "") for p in rt.speaker.played):
        assert time.monotonic() < deadline, list(rt.speaker.played)
        time.sleep(0.1)
    assert page.watch.console_errors == [] and page.watch.page_errors == []
    assert page.watch.external == []
