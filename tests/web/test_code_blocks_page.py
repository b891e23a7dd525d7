"""The code page's Blocks tab in a real headless Chromium under the kit's real CSP (no bypass):
every labkit block generates Python that compiles and calls the kit's API; placed blocks run
through the sandbox and light the bench's LED — inside the student's own first_program lab
(`programs: true`), whose log records it and turns the step green; a blocks program is kept
with its workspace.

One page visit does it all (a browser page costs seconds)."""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

import pytest

from tests.conftest import open_strict_page
from tests.web.test_code_page import sign_in

pytestmark = pytest.mark.browser

# every labkit block type → what its generated Python must contain. A block added to
# code_blocks.js without an entry here (or without a generator) fails the test.
EXPECTED: dict[str, tuple[str, ...]] = {
    "labkit_faces_count": ("from labkit.program import Camera", 'camera = Camera("kit")',
                           "len(camera.faces())"),
    "labkit_faces_present": ("bool(camera.faces())",),
    "labkit_detect_count": ("camera.detect('face').count",),
    "labkit_hand_gesture": ("camera.detect('hands').label == 'open_palm'",),
    "labkit_emotion_is": ("camera.detect('emotion').label == 'happy'",),
    "labkit_colour_seen": ("camera.detect('colour', colour='red').present",),
    "labkit_shape_seen": ("camera.detect('shapes').label == 'triangle'",),
    "labkit_text_read": ("print(camera.detect('text').label)",),
    "labkit_predict_is": ("print(camera.predict('我的模型').label == '类别 1')",),
    "labkit_led": ("from gpiozero import LED", "led = LED(17)", "led.on()"),
    "labkit_rgb": ("from gpiozero import RGBLED", "rgb = RGBLED(red=5, green=6, blue=13)",
                   "rgb.color = (1, 0, 0)"),
    "labkit_servo": ("from gpiozero import AngularServo",
                     "servo = AngularServo(12, min_angle=-90, max_angle=90)",
                     "servo.angle = max(-90, min(90, 30))"),
    "labkit_buzzer": ("from gpiozero import Buzzer", "buzzer = Buzzer(18)", "buzzer.on()"),
    "labkit_fan": ("from gpiozero import DigitalOutputDevice", "fan = DigitalOutputDevice(27)",
                   "fan.on()"),
    "labkit_pump": ("pump = DigitalOutputDevice(22)", "pump.on()"),
    "labkit_button_pressed": ("from gpiozero import Button", "button = Button(26)",
                              "print(button.is_pressed)"),
    "labkit_motion": ("from gpiozero import MotionSensor", "motion = MotionSensor(4)",
                      "print(motion.motion_detected)"),
    "labkit_sensor": ("from labkit.program import sensor", "print(sensor('light'))"),
    "labkit_sound_level": ("from labkit.program import sound_level", "print(sound_level())"),
    "labkit_heard": ("from labkit.program import heard", "print(heard('开灯'))"),
    "labkit_say": ("from labkit.program import say", "say(str('你好'))"),
    "labkit_wait": ("from time import sleep", "sleep(0.5)"),
    "labkit_forever": ("while True:\n    sleep(1)\n    sleep(0.05)",),
}


@pytest.fixture
def strict_page(browser: Any) -> Iterator[Any]:
    """The kit's CSP enforced; every violation, outside request and page error recorded."""
    context, page = open_strict_page(
        browser, {"width": 1400, "height": 1000},
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI));")
    yield page
    context.close()


def test_blocks_generate_python_run_and_light_the_led(inproc_server: Any, strict_page: Any,
                                                    data_dir: Any, model_store: Any) -> None:
    from labkit.projects.runner import LabRunner
    from labkit.store import Store

    page = strict_page
    sign_in(page, inproc_server)
    page.goto(inproc_server.url + "/code?tab=blocks")
    page.wait_for_selector("#blocks-workspace .blocklySvg")
    page.wait_for_selector(".blocklyToolboxCategory")
    assert "摄像头" in page.locator(".blocklyToolbox").inner_text()   # labels in the page's language

    # (a) every registered labkit block → a tiny workspace → Python
    generated = page.evaluate(
        "() => Object.fromEntries(LabkitBlocks.types().map(t => [t, LabkitBlocks.generateSample(t)]))")
    assert sorted(generated) == sorted(EXPECTED), "a block without a test entry, or the reverse"
    for block_type, code in generated.items():
        compile(code, block_type, "exec")
        for needed in EXPECTED[block_type]:
            assert needed in code, (block_type, needed, code)

    # (b) place blocks through the workspace API; the Python beside them follows live
    program = {"blocks": {"languageVersion": 0, "blocks": [
        {"type": "labkit_led", "x": 20, "y": 20, "fields": {"STATE": "on"},
         "next": {"block": {"type": "labkit_wait",
                            "inputs": {"SECONDS": {"shadow": {"type": "math_number",
                                                              "fields": {"NUM": 1}}}}}}}]}}
    page.evaluate("(state) => Blockly.serialization.workspaces.load(state, window.labkitBlocks)",
                  program)
    page.locator("#blocks-python .cm-content", has_text="led.on()").wait_for(timeout=5000)
    shown = page.locator("#blocks-python .cm-content").inner_text()
    assert "led = LED(17)" in shown and "sleep(1)" in shown
    assert page.locator("#device-led.is-on").count() == 0

    # the student's own lab runs: it takes programs, so the program drives the LED under the
    # lab's lease and the lab's log sees it
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    store = Store.for_runtime(inproc_server.runtime)
    me = next(s for c in store.roster.classes() for s in store.roster.students(c.id)
              if s.name == "小红")
    runner = LabRunner.for_runtime(inproc_server.runtime, store)
    lab = runner.start("first_program", student_id=me.id, holder_name=me.name)
    try:
        assert runner.program_holder(me.id) is lab.lease.holder
        assert runner.program_holder(me.id + 1) is None          # nobody else's program
        page.click("#code-run")
        page.locator("#device-led.is-on").wait_for(timeout=20000)    # the blocks lit the LED
        page.locator('#code-status[data-reason="done"]').wait_for(timeout=30000)
        deadline = time.monotonic() + 10
        while ((len(lab.log.entries("program")) < 2 or "light" not in lab.passed)
               and time.monotonic() < deadline):
            time.sleep(0.05)
        states = [(e.value["state"], e.value["blocks"]) for e in lab.log.entries("program")]
        assert states == [("started", True), ("ended", True)]
        assert any(e.value for e in lab.log.entries("led"))
        assert "light" in lab.passed                       # blocks_program_lit_led
        assert inproc_server.runtime.pins.holder is lab.lease.holder and lab.lease.active
    finally:
        runner.stop()

    # kept with its workspace: it reopens as blocks
    page.fill("#code-name", "积木亮灯")
    page.click("#code-save")
    page.locator("#code-programs option", has_text="积木亮灯").wait_for(state="attached")
    saved = page.evaluate("() => fetch('/api/code/programs').then(r => r.json())")["programs"]
    assert [p["kind"] for p in saved] == ["blocks"]
    opened = page.evaluate("(id) => fetch('/api/code/programs/' + id).then(r => r.json())",
                           saved[0]["id"])["program"]
    assert opened["blocks"]["blocks"]["blocks"][0]["type"] == "labkit_led"
    assert "led.on()" in opened["source"]
    # a blocks example opens as blocks and its Python shows beside them
    page.select_option("#code-examples", "blocks_face_led")
    page.locator("#blocks-python .cm-content", has_text="camera.faces()").wait_for(timeout=5000)
    assert json.dumps(page.evaluate(
        "() => window.labkitBlocks.getAllBlocks(false).map(b => b.type)")).count("labkit_led") == 2
    page.select_option("#code-examples", "blocks_voice_led")      # the taught command words
    page.locator("#blocks-python .cm-content", has_text="heard('关灯')").wait_for(timeout=5000)
    assert "if heard('开灯'):" in page.locator("#blocks-python .cm-content").inner_text()

    assert page.external == []
    assert page.errors == [], page.errors          # CSP violations are console errors too
