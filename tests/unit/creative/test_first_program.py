"""The first-program lab: its check on hand-written logs, and a real blocks program run from
the code API while the student's own `programs: true` lab runs — the program drives the LED
under the lab's lease, the lab's log records it and the step turns green; another student's
program is still refused."""

from __future__ import annotations

import time
from typing import Any

from labkit.projects.discovery import PACKAGE_LABS, load_checks_py
from tests.unit.projects.test_projects_vocabulary import make_log
from tests.web.test_code_api import run_events

STARTED = {"state": "started", "blocks": True}
ENDED = {"state": "ended", "reason": "done", "blocks": True}


def _check(name: str) -> Any:
    return load_checks_py(PACKAGE_LABS / "creative" / "first_program" / "checks.py",
                          "creative", "first_program")[name][0]


def test_the_led_must_be_lit_by_a_blocks_program() -> None:
    check = _check("blocks_program_lit_led")
    assert check(make_log(10, program=[(1, STARTED), (5, ENDED)],
                          led=[(2, 1), (4, 0)])).passed
    assert check(make_log(10, program=[(1, STARTED)], led=[(2, 1)])).passed   # still running
    # lit before the program, or by a program typed in Python, or with no program at all
    assert not check(make_log(10, program=[(5, STARTED), (8, ENDED)],
                              led=[(1, 1), (3, 0)])).passed
    typed = {**STARTED, "blocks": False}
    assert not check(make_log(10, program=[(1, typed), (5, ENDED)], led=[(2, 1)])).passed
    assert not check(make_log(10, led=[(2, 1), (4, 0)])).passed


BLOCKS_LED = ("from time import sleep\nfrom gpiozero import LED\n\nled = LED(17)\n\n"
              "led.on()\nsleep(1)\nled.off()\n")


def test_a_blocks_program_drives_the_led_inside_the_students_own_lab(
        student_client: Any, app: Any, runtime: Any, data_dir: Any, model_store: Any) -> None:
    from labkit.projects.runner import LabRunner
    from labkit.store import Store
    from tests.conftest import _signed_in_client

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    store = Store.for_runtime(runtime)
    me = student_client.student
    runner = LabRunner.for_runtime(runtime, store)
    lab = runner.start("first_program", student_id=me.id, holder_name=me.name)
    try:
        assert runner.program_holder(me.id) is lab.lease.holder
        assert runner.program_holder(me.id + 1) is None
        r = student_client.post("/api/code/run", json={"source": BLOCKS_LED, "blocks": True})
        assert r.status_code == 200, r.get_data(as_text=True)
        deadline = time.monotonic() + 20
        while "light" not in lab.passed and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "light" in lab.passed, (lab.log.entries("program"), lab.log.entries("led"))
        assert any(e.value for e in lab.log.entries("led"))
        while runtime.sandbox.running and time.monotonic() < deadline:
            time.sleep(0.05)
        while len(lab.log.entries("program")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        states = [(e.value["state"], e.value["blocks"]) for e in lab.log.entries("program")]
        assert states == [("started", True), ("ended", True)]
        assert runtime.pins.holder is lab.lease.holder          # the lab still holds the kit
        assert lab.lease.active

        # another student's program is refused while the lab runs
        other = store.roster.add_student(me.class_id, "别的同学")
        second = _signed_in_client(app)
        second.post(f"/student/classes/{other.class_id}/students/{other.id}", data={"next": "/"})
        events = run_events(second, "from gpiozero import LED\nLED(17).on()\n")
        assert events[-1]["reason"] == "error"
        assert me.name in [e["text"] for e in events if e["type"] == "stderr"][-1]
    finally:
        runner.stop()
