"""The code lab page in a real headless Chromium, under the page's real CSP: open the LED
example, run it, and watch the bench's LED light and the run finish."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.conftest import open_strict_page

pytestmark = pytest.mark.browser


@pytest.fixture
def strict_page(browser: Any) -> Iterator[Any]:
    """A page that keeps the kit's Content-Security-Policy (no bypass): CodeMirror must work
    without inline scripts or styles. Waits use selectors, not script evaluation."""
    context, page = open_strict_page(browser, {"width": 1280, "height": 900})
    yield page
    context.close()


def sign_in(page: Any, server: Any) -> None:
    from labkit.store import Store

    roster = Store.for_runtime(server.runtime).roster
    school_class = roster.add_class("编程班")
    roster.add_student(school_class.id, "小红")
    page.goto(server.url + "/student")
    page.locator(".pick-button", has_text="编程班").click()
    page.locator(".pick-button", has_text="小红").click()
    page.wait_for_selector("#nav-student")


@pytest.mark.slow   # a real browser, server and sandboxed child: ~30 s on a loaded CI machine
def test_the_led_example_runs_and_lights_the_bench_led(inproc_server: Any, strict_page: Any) -> None:
    page = strict_page
    sign_in(page, inproc_server)
    page.goto(inproc_server.url + "/code")
    page.wait_for_selector("#code-editor .cm-editor")
    page.wait_for_selector("#device-led")
    assert page.locator("#device-led.is-on").count() == 0
    page.select_option("#code-examples", "led_blink")
    page.locator(".cm-content", has_text="LED(17)").wait_for(timeout=10000)
    page.click("#code-run")
    page.locator("#device-led.is-on").wait_for(timeout=20000)     # the program lit the LED
    page.locator('#code-status[data-reason="done"]').wait_for(timeout=30000)
    assert "完成" in page.locator("#code-status").inner_text()
    output = page.locator("#code-output").inner_text()
    assert "LED on / 灯亮了" in output and "done / 完成" in output
    assert "保护措施" in page.locator("#code-protection").inner_text()
    page.locator("#device-led:not(.is-on)").wait_for(timeout=10000)   # off again at the end
    # saved to the portfolio and listed again
    page.fill("#code-name", "我的闪灯")
    page.click("#code-save")
    page.locator("#code-programs option", has_text="我的闪灯").wait_for(state="attached")
    assert page.external == []
    assert page.errors == []
