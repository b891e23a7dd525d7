"""The pipeline page in headless Chromium under the kit's real CSP: compose button → toggle →
fan from the block list, check it, run it and watch the bench's fan, break it and see the line.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.conftest import open_strict_page

pytestmark = pytest.mark.browser


@pytest.fixture
def strict_page(browser: Any) -> Iterator[Any]:
    context, page = open_strict_page(browser, {"width": 1280, "height": 900})
    yield page
    context.close()


def test_compose_check_run_and_a_mistake_with_its_line(inproc_server: Any,
                                                       strict_page: Any) -> None:
    from labkit.store import Store

    page, runtime = strict_page, inproc_server.runtime
    roster = Store.for_runtime(runtime).roster
    roster.add_student(roster.add_class("创客班").id, "小明")
    page.goto(inproc_server.url + "/student")
    page.locator(".pick-button", has_text="创客班").click()
    page.locator(".pick-button", has_text="小明").click()
    page.wait_for_selector("#nav-student")
    page.goto(inproc_server.url + "/pipeline")
    for block in ("button", "toggle", "fan"):
        page.select_option("#pl-new", block)
        page.click("#pl-add")
    page.locator('#pl-blocks li[data-block="fan"] select.pl-input').wait_for()
    # each new block follows the last block whose output it takes
    assert page.locator('li[data-block="fan"] select.pl-input').input_value() == "toggle1"
    text = page.locator("#pl-yaml").input_value()
    assert "{id: \"toggle1\", block: \"toggle\", input: \"button1\"}" in text
    page.click("#pl-check")
    page.locator("#pl-status", has_text="流水线没有问题").wait_for()
    page.click("#pl-run")
    page.locator("#pl-stop:not([disabled])").wait_for()
    assert runtime.pins.holder.kind == "pipeline"
    runtime.bench.apply({"device": "button", "action": "click"})
    page.locator("#device-fan.is-on").wait_for(timeout=10000)
    page.click("#pl-stop")
    page.locator("#device-fan:not(.is-on)").wait_for(timeout=10000)
    # a mistake typed into the YAML: Check names its line
    page.fill("#pl-yaml", text.replace('input: "toggle1"', 'input: "nothing"'))
    page.click("#pl-check")
    problem = page.locator("#pl-problem")
    problem.wait_for()
    assert problem.inner_text().startswith("第 6 行：") and "nothing" in problem.inner_text()
    page.fill("#pl-yaml", text)
    page.click("#pl-save")
    page.locator("#pl-saved option", has_text="my_pipeline").wait_for(state="attached")
    # the one failed request is the Check answering 400 with the mistake
    assert page.external == []
    assert all("400 (Bad Request)" in e for e in page.errors), page.errors
