"""The nearest-neighbours plot in Chromium: the lab's points, the live reading as a ring with
its k nearest points circled, the decision tree's boundary, and the k buttons (the vote
itself is tested against scikit-learn in tests/labs/test_cognition_nearest_neighbours.py);
and the voice lab's trials part counts a trial the student opened."""

from __future__ import annotations

from typing import Any

import pytest

from labkit.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

START_MS = 120_000   # a loaded machine starts a lab slowly; what is checked is the page


def test_the_plot_shows_the_points_and_the_reading_now(inproc_server: Any, page: Any) -> None:
    runtime = inproc_server.runtime
    roster = Store.for_runtime(runtime).roster
    school_class = roster.add_class("初二（3）班")
    roster.add_student(school_class.id, "刘洋")
    runtime.bench.apply({"device": "soil", "value": 0.3})
    runtime.bench.apply({"device": "light", "value": 0.8})
    page.goto(inproc_server.url + "/labs/nearest_neighbours")
    page.locator(".pick-button", has_text="初二（3）班").click()
    page.locator(".pick-button", has_text="刘洋").click()
    page.wait_for_selector("#lab-start")
    assert page.locator("#knn-k-7").is_disabled()           # nothing to change before the start
    page.click("#lab-start")
    page.wait_for_function("document.getElementById('knn-plot').dataset.points === '30'",
                           timeout=START_MS)
    page.wait_for_function("document.getElementById('knn-plot').dataset.live === '0.3,0.8'",
                           timeout=20000)
    assert page.locator("#knn-plot .knn-point").count() == 30
    assert page.locator("#knn-live").count() == 1
    assert page.locator("#knn-plot .knn-point.near").count() == 3
    assert page.locator("#knn-regions rect").count() > 0
    assert page.locator("#knn-compare line").count() > 0     # the decision tree's boundary
    page.click("#knn-k-7")
    page.wait_for_function("document.querySelectorAll('#knn-plot .knn-point.near').length === 7",
                           timeout=10000)
    assert page.locator("#knn-k-7").get_attribute("aria-pressed") == "true"
    assert "k = 7" in page.locator("#knn-status").inner_text()
    # the sensors move: so does the ring
    runtime.bench.apply({"device": "light", "value": 0.2})
    page.wait_for_function("Number((document.getElementById('knn-plot').dataset.live || '')"
                           ".split(',')[1]) < 0.25", timeout=10000)   # the ADC's 10 bits
    page.click("#knn-label-0")                                # label this reading: wait
    page.wait_for_function("document.getElementById('knn-plot').dataset.points === '31'",
                           timeout=10000)
    assert page.watch.console_errors == [] and page.watch.page_errors == []
    assert page.watch.external == []


def test_the_trials_part_counts_a_trial(inproc_server: Any, page: Any) -> None:
    roster = Store.for_runtime(inproc_server.runtime).roster
    school_class = roster.add_class("初二（4）班")
    roster.add_student(school_class.id, "赵敏")
    page.goto(inproc_server.url + "/labs/voice_commands")
    page.locator(".pick-button", has_text="初二（4）班").click()
    page.locator(".pick-button", has_text="赵敏").click()
    page.wait_for_selector("#trial-command")
    assert page.locator("#trial-command").is_disabled() and page.locator("#trial-other").is_disabled()
    assert page.locator("#trials-other [data-n]").inner_text() == "0"
    page.click("#lab-start")
    page.wait_for_selector("#trial-other:not([disabled])", timeout=START_MS)
    page.click("#trial-other")
    page.wait_for_function("document.getElementById('trials-open').textContent !== ''",
                           timeout=10000)
    page.click("#trial-command")          # nobody spoke: the open trial closes as not fired
    page.wait_for_function("document.querySelector('#trials-other [data-n]').textContent"
                           " === '1'", timeout=10000)
    assert page.locator("#trials-other [data-fired]").inner_text() == "0"
    assert "试验太少" in page.locator("#trials-other [data-rate]").inner_text()   # 1 of 5
    assert page.locator("#trials-last li").count() == 1
    assert page.watch.console_errors == [] and page.watch.page_errors == []
