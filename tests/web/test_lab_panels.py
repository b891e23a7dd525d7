"""The lab page is driven by the lab's declaration, in Chromium: panels, labels, overlays.

Two test labs from tests/fixtures/labs, installed into the kit's data dir as a lab pack would
be: a microphone-only clap lamp (no camera on its page, the sound meter instead, only the LED
on the bench) and a hands lab whose skeleton is drawn over the live view. A teacher presses
Demo: the scenario plays in real time and every step turns green by itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from labkit.projects.discovery import PACKAGE_LABS
from tests.fixtures.labs import FIXTURE_LABS
from tests.helpers import LiveServer, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OVERLAY_JS = PACKAGE_LABS.parent / "web" / "static" / "js" / "overlay.js"
MIC_PANEL = PACKAGE_LABS.parent / "web" / "templates" / "_microphone.html"
PIN = "864200"


@pytest.fixture
def lab_server(tmp_path: Path, model_store: Any) -> Iterator[LiveServer]:
    data = tmp_path / "kit" / "data"
    data.mkdir(parents=True)
    (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    for band, lab in (("experience", "clap_lamp_test"), ("cognition", "hand_wave_test")):
        shutil.copytree(FIXTURE_LABS / band / lab, data / "labs" / band / lab)
    server = start_server(data)
    yield server
    server.stop()


def as_teacher(page: Any, url: str) -> None:
    page.goto(url + "/teacher")
    page.fill("#pin", PIN)
    page.fill("#confirm", PIN)
    page.click("#pin-submit")
    page.wait_for_load_state()


def play_demo(page: Any, steps: list[str], timeout: float = 45000) -> None:
    page.click("#lab-demo")
    page.wait_for_selector("#lab-demo-stop:not([hidden])", timeout=20000)
    for step in steps:
        page.wait_for_selector(f"#step-{step}.passed", timeout=timeout)


def test_a_microphone_lab_shows_no_camera_and_its_demo_goes_green(lab_server: LiveServer,
                                                                   page: Any) -> None:
    as_teacher(page, lab_server.url)
    page.goto(lab_server.url + "/labs/clap_lamp_test")
    page.wait_for_selector("#lab-demo")
    assert page.locator("#camera-view").count() == 0
    assert page.locator("#camera-overlay").count() == 0
    assert page.get_attribute("#lab-live", "data-microphone") == "yes"
    assert page.get_attribute("#lab-live", "data-camera") == "no"
    assert page.locator("#lab-start").count() == 0      # a teacher without a name: demo only
    play_demo(page, ["clap", "lamp", "order"])
    if MIC_PANEL.exists():   # the shared sound meter shows the lab's own level readings
        assert page.locator("#mic-panel").count() == 1
        page.wait_for_function("document.getElementById('mic-panel').dataset.level", timeout=5000)
    # the signal labels are the lab's own (zh_CN first), not the framework's
    page.wait_for_selector("#signal-clapped")
    assert page.locator("#signal-clapped").inner_text().startswith("听到拍手")
    page.click("#lab-demo-stop")
    page.wait_for_selector("#lab-demo:not([hidden])", timeout=10000)
    assert page.watch.console_errors == [] and page.watch.page_errors == []
    assert page.watch.external == []


def test_a_hands_lab_gets_the_hand_results_while_its_demo_plays(lab_server: LiveServer,
                                                                page: Any) -> None:
    as_teacher(page, lab_server.url)
    page.goto(lab_server.url + "/labs/hand_wave_test")
    page.wait_for_selector("#lab-demo")
    assert page.locator("#camera-view").count() == 1
    page.wait_for_function("document.getElementById('camera-view').naturalWidth > 0",
                           timeout=10000)
    play_demo(page, ["show", "palm", "greet", "led"])
    assert page.evaluate("window.labOverlayEvents['vision.hands'] || 0") > 0
    assert page.locator("#signal-hand").inner_text().startswith("看到手")
    if not OVERLAY_JS.exists():
        pytest.skip("drawing needs the shared overlay module (static/js/overlay.js)")
    page.wait_for_function("(window.LabkitOverlay.lastDrawn || {}).hands > 0", timeout=10000)


def test_taking_the_kit_over_asks_first(lab_server: LiveServer, page: Any) -> None:
    as_teacher(page, lab_server.url)
    page.goto(lab_server.url + "/labs/clap_lamp_test")
    page.click("#lab-demo")
    page.wait_for_selector("#lab-demo-stop:not([hidden])", timeout=20000)
    other = page.context.new_page()
    other.goto(lab_server.url + "/labs/face_led")
    assert other.is_visible("#lab-busy")             # the page says who holds the kit
    assert other.inner_text("#lab-busy-text") == "正在播放实验演示。"
    other.click("#lab-demo")
    other.wait_for_selector("#lab-busy:not([hidden])")
    other.once("dialog", lambda dialog: dialog.dismiss())
    other.click("#lab-takeover")                      # "no": nothing changes
    other.wait_for_timeout(1000)
    active = other.evaluate("fetch('/api/labs/active').then(r => r.json())")
    assert active["holder"]["project"] == "clap_lamp_test"
    messages: list[str] = []

    def accept(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()
    other.once("dialog", accept)
    other.click("#lab-takeover")                      # "yes": the kit is taken over
    other.wait_for_selector("#lab-demo-stop:not([hidden])", timeout=20000)
    assert messages and "接管" in messages[0]
    active = other.evaluate("fetch('/api/labs/active').then(r => r.json())")
    assert active["holder"]["project"] == "face_led"
    page.wait_for_selector("#lab-demo:not([hidden])", timeout=10000)   # the first one stopped
    other.close()


def test_the_start_buttons_wait_for_the_page_script(lab_server: LiveServer, page: Any) -> None:
    """On a slow kit the buttons are drawn before the page's script listens to them: until
    then they are disabled, so a press is not silently lost."""
    as_teacher(page, lab_server.url)
    held: list[Any] = []
    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/static/js/labs.js*", hold)
    page.goto(lab_server.url + "/labs/clap_lamp_test", wait_until="commit")
    page.wait_for_selector("#lab-demo", state="attached")
    while not held:
        page.wait_for_timeout(50)
    assert page.locator("#lab-demo").is_disabled() and page.locator("#lab-demo-fast").is_disabled()
    held[0].continue_()
    page.wait_for_selector("#lab-demo:not([disabled])", timeout=20000)
    play_demo(page, ["clap"])
    page.click("#lab-demo-stop")
    page.wait_for_selector("#lab-demo:not([hidden])", timeout=10000)
    assert page.watch.console_errors == [] and page.watch.page_errors == []
