"""Every primary lab's page in Chromium: the panels its declaration implies, and its steps
turning green under its demo.

The labs come from the package (band `experience`), not a hand list: a new primary lab is
tested by existing. One kit server and one browser page serve the whole file, and each demo
plays on a simulated clock (the page's "Quick demo": the real detectors see every frame, nobody
waits between them), so eleven labs cost seconds each rather than their scenario's length.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover
from tests.helpers import LiveServer, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PIN = "864200"
PRIMARY = {i: s for i, s in discover([(PACKAGE_LABS, "package")]).specs.items()
           if s.band == "experience"}
PARTS = sorted({p["part"] for s in PRIMARY.values() for p in s.parts()})


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory, model_store: Any) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("primary-demos") / "data"
    data.mkdir(parents=True)
    (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    server = start_server(data)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def teacher_page(browser: Any, kit: LiveServer) -> Iterator[Any]:
    """One page for the file, signed in as the teacher (who may play a lab's demo)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  bypass_csp=True)
    external: list[str] = []
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                  else (external.append(route.request.url), route.abort()))
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(kit.url + "/teacher")
    page.fill("#pin", PIN)
    page.fill("#confirm", PIN)
    page.click("#pin-submit")
    page.wait_for_load_state()
    page.errors, page.external = errors, external   # type: ignore[attr-defined]
    yield page
    context.close()


def test_every_primary_lab_is_found() -> None:
    assert len(PRIMARY) >= 11 and "rps_cheat" in PRIMARY and "face_led" in PRIMARY


@pytest.mark.parametrize("lab_id", sorted(PRIMARY))
def test_the_page_shows_its_panels_and_the_quick_demo_turns_every_step_green(
        lab_id: str, kit: LiveServer, teacher_page: Any) -> None:
    page, spec = teacher_page, PRIMARY[lab_id]
    panels = spec.panels()
    page.goto(f"{kit.url}/labs/{lab_id}")
    page.wait_for_selector("#lab-demo-fast")
    assert page.locator("#camera-view").count() == (1 if panels["camera"] else 0)
    assert page.locator("#mic-panel").count() == (1 if panels["microphone"] else 0)
    for part in PARTS:
        assert page.locator(f"#{part}-panel").count() == (1 if part in panels["parts"] else 0), part
        if part in panels["parts"]:
            assert page.locator(f"#{part}-panel").is_visible(), part
    if panels["devices"]:     # only the lab's own devices; "show all" reveals the others
        page.wait_for_selector("#bench-grid [data-device]", state="attached")
        shown = page.eval_on_selector_all("#bench-grid [data-device]",
                                          "cards => cards.filter(c => !c.hidden)"
                                          ".map(c => c.dataset.device)")
        assert sorted(shown) == sorted(panels["devices"])
    else:
        assert page.locator("#bench").count() == 0
    steps = [s["id"] for s in spec.data["steps"]]
    assert page.locator("#lab-steps .step.passed").count() == 0
    page.click("#lab-demo-fast")
    page.wait_for_selector("#lab-demo-stop:not([hidden])", timeout=10000)
    for step in steps:
        page.wait_for_selector(f"#step-{step}.passed", timeout=30000)
    assert page.locator("#lab-steps .step.passed").count() == len(steps)
    page.click("#lab-demo-stop")          # the next lab gets the kit
    page.wait_for_selector("#lab-demo-fast:not([hidden])", timeout=10000)
    assert page.errors == [] and page.external == []    # type: ignore[attr-defined]

