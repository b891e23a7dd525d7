"""The lab page a 7-year-old uses alone, in Chromium: pinyin toggle remembered, stars, a
reflection by drawing, and errors shown next to what caused them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.helpers import LiveServer, pick_a_name, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def kit(tmp_path: Path, model_store: Any) -> Iterator[LiveServer]:
    data = tmp_path / "kit" / "data"
    data.mkdir(parents=True)
    (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    server = start_server(data)
    yield server
    server.stop()


def _scrolled(page: Any) -> None:
    """Wait until a smooth scroll (the page brings an error into view) has come to rest."""
    page.wait_for_function("() => { const y = window.scrollY, before = window.__lastY;"
                           " window.__lastY = y; return before === y; }", polling=150)


def _rt_shown(page: Any) -> bool:
    return page.evaluate("getComputedStyle(document.querySelector('#lab-title rt')).display")\
        != "none"


def test_pinyin_toggle_is_remembered(kit: LiveServer, page: Any) -> None:
    pick_a_name(page, kit.url, data_dir=kit.data_dir)
    page.goto(kit.url + "/labs/face_led")
    page.wait_for_selector("#pinyin-toggle")
    assert _rt_shown(page) and page.get_attribute("#pinyin-toggle", "aria-pressed") == "true"
    page.click("#pinyin-toggle")
    assert not _rt_shown(page) and page.get_attribute("#pinyin-toggle", "aria-pressed") == "false"
    page.reload()
    page.wait_for_selector("#pinyin-toggle")
    assert not _rt_shown(page)                       # this browser remembers
    page.click("#pinyin-toggle")
    assert _rt_shown(page)
    assert page.watch.page_errors == [] and page.watch.external == []


def test_reflection_by_drawing_with_stars_and_errors_by_the_controls(kit: LiveServer,
                                                                     page: Any) -> None:
    pick_a_name(page, kit.url, data_dir=kit.data_dir)
    page.goto(kit.url + "/labs/face_led")
    page.click("#lab-start")
    page.wait_for_selector("#lab-done:not([hidden])", timeout=20000)
    page.click("#lab-done")
    page.wait_for_selector("#lab-finish:not([hidden])")
    # nothing chosen: each error appears by its own control, tied to it for screen readers
    page.click("#lab-save")
    page.wait_for_selector("#reflection-error:not([hidden])")
    assert "选一张脸" in page.inner_text("#reflection-error")
    assert "reflection-error" in page.get_attribute("#reflection", "aria-describedby")
    for criterion in ("observe", "rule", "care"):
        assert page.is_visible(f"#self-{criterion}-error")
        assert page.get_attribute(f"#self-{criterion}", "aria-describedby") == \
            f"self-{criterion}-error"
    box = page.locator("#reflection-error").bounding_box()
    group = page.locator("#reflection").bounding_box()
    assert group["y"] <= box["y"] <= group["y"] + group["height"]    # inside the group
    assert page.url.endswith("/labs/face_led")       # nothing was sent
    # draw a line, pick stars by tapping their pictures
    _scrolled(page)
    page.locator("#reflection-canvas").scroll_into_view_if_needed()
    _scrolled(page)
    canvas = page.locator("#reflection-canvas").bounding_box()
    page.mouse.move(canvas["x"] + 40, canvas["y"] + 40)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 200, canvas["y"] + 120, steps=8)
    page.mouse.up()
    assert page.get_attribute("#reflection-canvas", "data-drawn") == "true"
    assert page.locator("#reflection-error").is_hidden()
    for criterion, stars in (("observe", 2), ("rule", 3), ("care", 1)):
        page.click(f"label[for=self-{criterion}-{stars}]")
        assert page.locator(f"#self-{criterion}-error").is_hidden()
    page.click("#lab-save")
    page.wait_for_url("**/portfolio/**", timeout=15000)
    run = page.locator(".run").first
    assert "我把答案画出来了" in run.inner_text()
    assert run.locator("img").count() == 1           # the drawing, kept in the portfolio
    assert "★★☆" in run.inner_text() and "我自己做到了" in run.inner_text()
    assert "用了" in run.locator(".run-duration").inner_text()
    natural = run.locator("img").evaluate("img => img.complete && img.naturalWidth")
    assert natural == 480
    assert page.watch.page_errors == [] and page.watch.console_errors == []
    assert page.watch.external == []


def test_a_start_that_fails_says_so_by_the_start_button(server_factory: Any, page: Any) -> None:
    kit = server_factory()                          # no models on this kit: the face lab cannot start
    pick_a_name(page, kit.url, data_dir=kit.data_dir)
    page.goto(kit.url + "/labs/face_led")
    page.click("#lab-start")
    page.wait_for_selector("#lab-start-error:not([hidden])", timeout=20000)
    assert page.inner_text("#lab-start-error").strip()
    assert page.get_attribute("#lab-start", "aria-describedby") == "lab-start-error"
    start = page.locator("#lab-start").bounding_box()
    error = page.locator("#lab-start-error").bounding_box()
    assert abs(error["y"] - (start["y"] + start["height"])) < 120   # right under the button
    assert page.watch.page_errors == [] and page.watch.external == []
