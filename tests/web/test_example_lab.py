"""The example lab end to end in Chromium, in simulation, as a class would use it.

Teacher sets the PIN and imports the class list; a student picks their name, opens the
face → LED lab and starts it. The synthetic camera's face walks in and out of view, BlazeFace
sees it, the LED (and the RGB LED) follows, and the four checks turn green on the page by
themselves. The student answers the reflection question and the self-assessment; the run is in their
portfolio and in the CSV export. No request leaves 127.0.0.1, no console error.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterator

import pytest

from labkit import exportlock
from tests.helpers import LiveServer, start_server

PASSPHRASE = "river kite 2026"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROSTER = "姓名\n王芳\n李雷\n欧阳娜娜\n"
ANSWER = "摄像头看到我的脸，小灯就亮了；我走开，灯就灭了。"


@pytest.fixture
def lab_server(tmp_path: Path, model_store: Any) -> Iterator[LiveServer]:
    data = tmp_path / "kit" / "data"
    data.mkdir(parents=True)
    (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    server = start_server(data)
    yield server
    server.stop()


def test_face_led_from_roster_pick_to_portfolio_and_csv(lab_server: LiveServer, page: Any,
                                                        tmp_path: Path) -> None:
    url = lab_server.url
    # -- the teacher: PIN on first run, a class, the class list from a CSV file
    page.goto(url + "/teacher")
    page.fill("#pin", "864200")
    page.fill("#confirm", "864200")
    page.click("#pin-submit")
    page.fill("#new-class", "二年级三班")
    page.click("#add-class")
    roster_file = tmp_path / "class.csv"
    roster_file.write_bytes(ROSTER.encode("gbk"))  # as Chinese Excel saves it
    page.set_input_files("#roster-file", str(roster_file))
    page.click("#import-roster")
    page.wait_for_selector(".flash-ok")
    assert page.locator("#roster .roster-row").count() == 3
    page.goto(url + "/teacher")
    page.click("#export-passphrase")            # exports leave the kit encrypted
    page.fill("#passphrase", PASSPHRASE)
    page.fill("#confirm", PASSPHRASE)
    page.click("#passphrase-submit")
    page.wait_for_selector(".flash-ok")
    page.goto(url + "/teacher")
    page.click("#teacher-logout")

    # -- the student: band → lab → class → name
    page.goto(url + "/")
    page.click("#lab-face_led")
    page.wait_for_selector(".pick-list")
    page.locator(".pick-button", has_text="二年级三班").click()
    page.locator(".pick-button", has_text="王芳").click()
    page.wait_for_selector("#lab-start")
    assert page.locator("#nav-student").inner_text() == "王芳"
    assert page.locator(".step").count() == 4
    assert page.locator("#wiring-diagram").is_visible()
    page.wait_for_function("document.getElementById('camera-view').naturalWidth > 0",
                           timeout=10000)

    # -- run: the checks turn green by themselves as the synthetic face comes and goes
    page.wait_for_selector("#device-led")
    page.evaluate("""() => {
        window.ledLit = 0;
        const led = document.getElementById('device-led');
        new MutationObserver(() => { if (led.classList.contains('is-on')) window.ledLit++; })
            .observe(led, {attributes: true, attributeFilter: ['class']});
    }""")
    page.click("#lab-start")
    page.wait_for_selector("#step-look.passed", timeout=20000)
    for step in ("follow", "dark", "colours"):
        page.wait_for_selector(f"#step-{step}.passed", timeout=45000)
    assert page.locator("#signal-face").count() == 1  # "face in view" shown live
    assert page.evaluate("window.ledLit") > 0  # the bench's LED lit on the page too
    assert page.locator("#progress-follow").inner_text().startswith("3")
    page.wait_for_selector("#lab-finish:not([hidden])", timeout=5000)

    # -- reflection and self-assessment → portfolio
    page.fill("#reflection-answer", ANSWER)
    for criterion in ("observe", "rule", "care"):
        page.locator(f"#self-{criterion} input[value='2']").check()
    page.click("#lab-save")
    page.wait_for_url("**/portfolio/classes/*/students/*", timeout=10000)
    run = page.locator(".run").first
    assert ANSWER in run.inner_text()
    assert "4 / 4" in run.locator(".run-steps").inner_text()
    assert run.locator(".self-level").count() == 3

    # -- the CSV export has the run, inside the ZIP locked with the teacher's passphrase
    with page.expect_download() as download:
        page.click("#export-csv")
    path = download.value.path()
    files = exportlock.open_encrypted_zip(Path(path).read_bytes(), PASSPHRASE)
    rows = list(csv.reader(io.StringIO(files["portfolio.csv"].decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][1] == "王芳" and rows[1][2] == "face_led" and rows[1][7] == "4"
    assert ANSWER in rows[1]

    assert page.watch.external == []
    assert page.watch.console_errors == [] and page.watch.page_errors == []
