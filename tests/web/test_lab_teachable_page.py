"""The waste-sorting lab's "use the model you taught" part in Chromium: a student who made and
trained an image project on /learn picks it on the lab page, and the bottle in view goes to
the bin their model says (taught on purpose against the built-in demo), with their model's
held-out report card; "back to the demo model" returns to the built-in sorter.

The real app runs in-process (tests/conftest.py InProcessServer) so the synthetic camera can
show a fixed picture, and the project's samples are added through the kit's own store.
"""

from __future__ import annotations

from typing import Any

import pytest

from labkit.drivers import scenes
from labkit.learn.features import HogColourExtractor
from labkit.learn.model import train_project
from labkit.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: how long a wait that follows the lab's start may take (a loaded machine starts it slowly)
START_MS = 120_000


def _waste(item: str, variant: int) -> Any:
    return scenes.render("waste", {"item": item, "variant": variant}, 0.0, 320, 240)


def _bin(page: Any) -> str:
    return page.evaluate("(document.getElementById('signal-bin') || {}).textContent || ''")


def test_a_student_picks_their_own_model_on_the_lab_page(inproc_server: Any, page: Any) -> None:
    runtime = inproc_server.runtime
    roster = Store.for_runtime(runtime).roster
    school_class = roster.add_class("初二（3）班")
    roster.add_student(school_class.id, "王小明")
    bottle = _waste("bottle", 60)                       # a bottle none of the samples show
    runtime.camera.play(lambda t: bottle)
    try:
        page.goto(inproc_server.url + "/labs/waste_sorting")
        page.locator(".pick-button", has_text="初二（3）班").click()
        page.locator(".pick-button", has_text="王小明").click()
        page.wait_for_selector("#lab-start:not([disabled])")
        # the project is made in this browser's session, as the /learn page makes it
        made = page.evaluate("Labkit.post('/api/learn/projects', {name: '我的垃圾桶', kind: 'image',"
                             " classes: ['有害垃圾', '可回收物', '空']})")
        project = runtime.services["learn"].projects.get(made["id"])
        teach = {"有害垃圾": ("bottle", 8), "可回收物": ("banana_peel", 8), "空": (None, 6)}
        for info in project.classes:
            item, n = teach[info.name]
            for v in range(1, n + 1):
                project.add_sample(info.id, _waste(item, v) if item else
                                   scenes.render("empty", {"dark": 0.04 * (v % 3)}, 0.0, 320, 240))
        train_project(project, HogColourExtractor())

        page.reload()
        part = "#part-teachable-sorter"
        # the list is there before the start, but nothing can be picked until the lab runs
        page.wait_for_function(f"document.querySelector('{part} [data-select]').options.length"
                               " === 1", timeout=20000)
        assert page.locator(f"{part} [data-use]").is_disabled()
        assert page.locator(f"{part} [data-start]").is_visible()
        page.click("#lab-start")
        page.wait_for_selector(f"{part} [data-use]:not([disabled])", timeout=START_MS)
        # the demo sorter answers first: a bottle is recyclable
        page.wait_for_function("((document.getElementById('signal-bin') || {}).textContent"
                               " || '').endsWith('recyclable')", timeout=START_MS)
        # how the classes match the bins, and what is missing, in words
        assert "有害垃圾" in page.inner_text(f"{part} [data-mapped]")
        assert page.locator(f"{part} [data-missing]").is_visible()

        page.click(f"{part} [data-use]")
        page.wait_for_function(f"document.querySelector('{part}').dataset.picked === "
                               f"'{project.id}'", timeout=20000)
        assert "我的垃圾桶" in page.inner_text(f"{part} [data-now]")
        # the student's model answers now: the same bottle goes to hazardous
        page.wait_for_function("((document.getElementById('signal-bin') || {}).textContent"
                               " || '').endsWith('hazardous')", timeout=30000)
        # and the report card is their project's held-out test
        page.wait_for_selector("#part-confusion-sorter [data-source]:not([hidden])",
                               timeout=30000)
        assert "我的垃圾桶" in page.inner_text("#part-confusion-sorter [data-source]")
        held_out = len(project.model["report"]["test_samples"])
        accuracy = page.inner_text('#part-confusion-sorter [data-test="seen"] [data-accuracy]')
        assert str(held_out) in accuracy

        page.click(f"{part} [data-demo]")
        page.wait_for_function(f"document.querySelector('{part}').dataset.picked === ''",
                               timeout=20000)
        page.wait_for_function("((document.getElementById('signal-bin') || {}).textContent"
                               " || '').endsWith('recyclable')", timeout=30000)
        assert page.watch.console_errors == [] and page.watch.page_errors == []
        assert page.watch.external == []
    finally:
        runtime.camera.play(None)
