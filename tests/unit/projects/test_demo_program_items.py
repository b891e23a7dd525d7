"""A demo's `program:` items (what a student's program would drive, for `programs: true`
labs): compiled into the timeline, refused with the item named when malformed, unwired or in
a lab that does not take programs; the runner drives each kind of output as a program would."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from labkit.projects.demo import DemoError, Scenario, compile_script
from labkit.projects.discovery import PACKAGE_LABS, load_lab
from tests.helpers import wait_until


def test_program_items_are_played_in_order_with_the_bench() -> None:
    scenario = Scenario([{"for": 1}, {"for": 2, "bench": {"device": "motion", "value": True},
                                      "program": [{"device": "fan", "value": 1}]}])
    assert scenario.actions(1.0, 1.1) == [("bench", {"device": "motion", "value": True}),
                                          ("program", {"device": "fan", "value": 1})]
    with pytest.raises(DemoError, match="device, value") as bad:
        compile_script([{"for": 1}, {"for": 1, "program": {"device": "led", "on": True}}])
    assert bad.value.path == [1, "program"]
    with pytest.raises(DemoError, match="not in the lab's wiring"):
        compile_script([{"for": 1, "program": {"device": "pump", "value": 1}}], {"led"})


def test_a_lab_without_programs_true_cannot_play_a_program(tmp_path: Path) -> None:
    folder = tmp_path / "creative" / "first_program"
    shutil.copytree(PACKAGE_LABS / "creative" / "first_program", folder)
    lab_yaml = folder / "lab.yaml"
    assert not isinstance(load_lab(folder, "creative"), list)       # as shipped: fine
    lab_yaml.write_text(lab_yaml.read_text(encoding="utf-8").replace("programs: true\n", ""),
                        encoding="utf-8")
    problems = load_lab(folder, "creative")
    assert isinstance(problems, list)
    assert any("programs: true" in str(p) for p in problems), problems


def test_the_runner_drives_each_kind_of_output(runtime: Any) -> None:
    from labkit.projects.runner import LabRunner

    runner = LabRunner(runtime)
    runner._drive_output("led", 1)
    runner._drive_output("rgb", [0, 1, 0])
    runner._drive_output("servo", 45)
    state = runtime.bench.state()
    assert state["led"]["value"] == 1 and state["rgb"]["value"] == [0, 1, 0]
    assert abs(state["servo"]["angle"] - 45) < 1


def _program_in_its_lab(runtime: Any, data_dir: Path, model_store: Any,
                        source: str) -> tuple[Any, Any, Any]:
    """The first_program lab started for student 5 (no store: no portfolio run), and
    `source` running as that student's program once it has printed its first line:
    (the runner, the lab, the program run)."""
    from labkit.projects.runner import LabRunner

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    runner = LabRunner(runtime)
    lab = runner.start("first_program", student_id=5)
    program = runtime.sandbox.start(source, runner.program_holder(5), owner=5)
    assert wait_until(lambda: any(e["type"] == "stdout" for e in program.events), 20), \
        "the program never printed"
    return runner, lab, program


def test_a_program_inside_its_lab_ends_with_the_lab(runtime: Any, data_dir: Path,
                                                   model_store: Any) -> None:
    """It runs under the lab's lease: left running, it would hold the pins in the lab's name."""
    runner, lab, program = _program_in_its_lab(
        runtime, data_dir, model_store, "import time\nprint('up', flush=True)\ntime.sleep(30)\n")
    assert program.holder is lab.lease.holder
    runner.stop()
    result = program.wait(10)
    assert result is not None and result["reason"] == "stopped"
    assert runtime.pins.holder is None or runtime.pins.holder.soft     # the kit is free again


def test_a_lab_says_it_stopped_only_once_its_program_has_ended(
        runtime: Any, data_dir: Path, model_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stop is over when the kit is free: not while the killed program still puts its pins
    back and holds the lab's lease (which takes a moment, longer on a busy machine)."""
    import time

    from labkit.sandbox.link import LinkSession

    close = LinkSession.close

    def slow_close(self: LinkSession) -> None:
        time.sleep(0.3)          # putting the program's pins back takes a moment
        close(self)

    monkeypatch.setattr(LinkSession, "close", slow_close)
    runner, lab, program = _program_in_its_lab(
        runtime, data_dir, model_store, "from gpiozero import LED\nimport time\nLED(17).on()\n"
                                        "print('up', flush=True)\ntime.sleep(30)\n")
    assert runtime.pins.holder is lab.lease.holder
    sub = runtime.bus.subscribe("lab.state")
    runner.stop()
    result, holder = program.result, runtime.pins.holder
    event = sub.get(timeout=5)
    sub.close()
    assert result is not None and result["reason"] == "stopped", "the program still ran"
    assert holder is None or holder.soft, f"the kit was still held by {holder}"
    assert event is not None and event.data["status"] == "stopped"
    assert runtime.kit.led.value == 0                      # its LED went off with the lab
