"""The kit's page in a real headless Chromium (Debian's), against a real server."""

import pytest

from tests.helpers import pick_a_name

pytestmark = pytest.mark.browser


def led_card_is_on(page) -> bool:
    return page.locator("#device-led").evaluate("el => el.classList.contains('is-on')")


def test_home_page_loads_clean_and_offline(live_server, page):
    page.goto(live_server.url + "/")
    page.wait_for_selector("#device-led")
    page.wait_for_function(
        "document.getElementById('camera-view').naturalWidth > 0", timeout=10000)
    assert page.locator("h1").inner_text() == "欢迎使用 AI 小盒子"
    assert "按住按钮" in page.locator("#idle-demo-hint").inner_text()
    cards = page.locator(".device").evaluate_all("els => els.map(e => e.dataset.device)")
    assert {"led", "rgb", "buzzer", "servo", "button", "motion", "distance", "light",
            "temperature"} <= set(cards)
    assert page.watch.external == []
    assert page.watch.console_errors == [] and page.watch.page_errors == []


def test_bench_button_drives_the_led_on_the_page(live_server, page):
    pick_a_name(page, live_server.url, data_dir=live_server.data_dir)   # bench inputs need one
    page.goto(live_server.url + "/")
    page.wait_for_selector("#bench-button-press")
    assert not led_card_is_on(page)
    button = page.locator("#bench-button-press")
    button.dispatch_event("pointerdown")
    page.wait_for_function("document.getElementById('device-led').classList.contains('is-on')",
                           timeout=5000)
    assert page.locator("#device-button .device-value").inner_text() == "按下"
    button.dispatch_event("pointerup")
    page.wait_for_function("!document.getElementById('device-led').classList.contains('is-on')",
                           timeout=5000)
    assert page.watch.console_errors == []


def test_sliders_and_motion_update_live(live_server, page):
    pick_a_name(page, live_server.url, data_dir=live_server.data_dir)
    page.goto(live_server.url + "/")
    page.wait_for_selector("#bench-distance-slider")
    page.locator("#bench-distance-slider").fill("1.5")
    page.wait_for_function(
        "document.querySelector('#device-distance .device-value').textContent.startsWith('1.50')",
        timeout=5000)
    page.locator("#bench-motion-toggle").click()
    page.wait_for_function(
        "document.getElementById('device-motion').classList.contains('is-on')", timeout=5000)


def test_language_switch_shows_english(live_server, page):
    page.goto(live_server.url + "/")
    page.click("#lang-en")
    page.wait_for_selector("text=Virtual bench")
    assert page.locator("h1").inner_text() == "Welcome to the AI Lab Kit"
    assert page.locator("#device-led .device-name").inner_text() == "LED"
    page.click("#lang-zh")
    page.wait_for_selector("text=虚拟实验台")
    assert page.watch.external == []


def test_page_tells_when_the_camera_is_unplugged_and_recovers(inproc_server, page):
    source = inproc_server.runtime.camera.source
    page.goto(inproc_server.url + "/")
    page.wait_for_function("document.getElementById('camera-view').naturalWidth > 0")
    assert page.locator("#camera-status").is_hidden()
    source.unplugged = True
    page.wait_for_selector("#camera-status", state="visible", timeout=10000)
    assert "重新连接" in page.locator("#camera-status").inner_text()
    source.unplugged = False
    page.wait_for_selector("#camera-status", state="hidden", timeout=10000)
