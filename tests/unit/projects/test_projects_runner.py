"""The runner: one lab per kit, checks from bench events, steps stored once, clean hand-over."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest

from labkit.projects.runner import LabRunner, StepBinding, device_signal
from labkit.store import Problem
from tests.helpers import events_until


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def click(runtime: Any, times: int = 1) -> None:
    for _ in range(times):
        runtime.bench.apply({"device": "button", "action": "press"})
        time.sleep(0.12)
        runtime.bench.apply({"device": "button", "action": "release"})
        time.sleep(0.12)


def drain(sub: Any) -> list[Any]:
    out = []
    while (event := sub.get(timeout=0.05)) is not None:
        out.append(event)
    return out


def signals(events: list[Any]) -> dict[str, Any]:
    """Each lab signal's last published value."""
    return {e.data["name"]: e.data["value"] for e in events if e.topic == "lab.signal"}


def test_a_lab_passes_its_steps_from_bench_events_and_stores_them(
        runner: LabRunner, runtime: Any, store: Any, kid: Any) -> None:
    sub = runtime.bus.subscribe("lab")
    lab = runner.start("button_led_test", student_id=kid.id, lesson_id="button_lesson",
                       steps=[StepBinding("press", "pressed_twice"), StepBinding("see", "led_lit")],
                       titles=("按钮", "Button"))
    assert lab.run_id is not None and runner.active is lab
    assert not lab.snapshot()["complete"]
    click(runtime, 2)
    wait_for(lambda: lab.complete)
    run = store.runs.get(lab.run_id)
    assert {s.step_id for s in run.steps} == {"press", "see"} and run.status == "running"
    assert run.lesson_id == "button_lesson" and run.title("en") == "Button"
    # everything the lab publishes up to its "complete" state, and its step after the
    # button's last release (the button ends up released)
    # (the lab's thread sets `lab.complete` before it publishes that evaluation's events)
    events = events_until(sub, lambda es: any(
        e.topic == "lab.state" and e.data["status"] == "complete" for e in es)
        and signals(es).get("pressed") is False, quiet=0.05)
    topics = [e.topic for e in events]
    assert topics[0] == "lab.state" and events[0].data["status"] == "running"
    assert topics.count("lab.step") == 2
    assert any(e.topic == "lab.state" and e.data["status"] == "complete" for e in events)
    progress = [e.data["count"] for e in events
                if e.topic == "lab.check" and e.data["check"] == "pressed_twice"]
    assert progress[:3] == [0, 1, 2]
    assert any(e.topic == "lab.signal" and e.data["name"] == "pressed" for e in events)
    # the snapshot (what a page's start call returns) carries what each signal reads now, so
    # a change announced before the page knew its run is not lost
    last = signals(events)
    assert lab.snapshot()["signals"] == last and "pressed" in last
    runner.stop()
    assert store.runs.get(lab.run_id).status == "stopped" and runner.active is None
    sub.close()


def test_steps_stay_green_once_passed_and_are_written_once(runner: LabRunner, runtime: Any,
                                                           store: Any, kid: Any) -> None:
    lab = runner.start("button_led_test", student_id=kid.id)
    click(runtime, 3)
    wait_for(lambda: lab.complete)
    first = dict(lab.passed)
    click(runtime, 1)
    time.sleep(0.4)
    assert lab.passed == first
    assert len(store.runs.get(lab.run_id).steps) == 2


def test_one_lab_per_kit_busy_then_takeover(runner: LabRunner, runtime: Any, store: Any,
                                            kid: Any) -> None:
    first = runner.start("button_led_test", student_id=kid.id)
    with pytest.raises(Problem) as exc:
        runner.start("button_led_test", student_id=kid.id)
    assert exc.value.code == "busy"
    second = runner.start("button_led_test", student_id=kid.id, takeover=True)
    assert runner.active is second and second.run_id != first.run_id
    assert store.runs.get(first.run_id).status == "stopped"
    assert store.runs.get(second.run_id).status == "running"


def test_stop_only_stops_the_named_run(runner: LabRunner, kid: Any) -> None:
    lab = runner.start("button_led_test", student_id=kid.id)
    assert runner.stop(run_id=(lab.run_id or 0) + 1000) is None and runner.active is lab
    assert runner.stop(run_id=lab.run_id) is lab and runner.active is None


def test_outputs_are_handed_back_and_the_idle_demo_resumes(runner: LabRunner,
                                                           runtime: Any) -> None:
    runner.start("button_led_test")
    if hasattr(runtime, "idle_demo_running"):
        assert not runtime.idle_demo_running
    runtime.bench.apply({"device": "button", "action": "press"})
    wait_for(lambda: runtime.bench.state()["led"]["value"] == 1.0)
    runner.stop()
    runtime.bench.apply({"device": "button", "action": "release"})
    wait_for(lambda: runtime.bench.state()["led"]["value"] == 0.0)
    if hasattr(runtime, "idle_demo_running"):
        assert runtime.idle_demo_running


@pytest.mark.parametrize("project, steps, code", [
    ("no_such_lab", None, "unknown_project"),
    ("needs_a_pump_test", None, "unknown_device"),
    ("button_led_test", [StepBinding("x", "no_such_check")], "bad_lesson"),
    ("broken_setup_test", None, "lab_failed"),
])
def test_labs_that_cannot_start_say_why_and_leave_nothing_running(
        runner: LabRunner, store: Any, kid: Any, project: str, steps: Any, code: str) -> None:
    with pytest.raises(Problem) as exc:
        runner.start(project, steps=steps, student_id=kid.id)
    assert exc.value.code == code and runner.active is None
    runs = store.runs.for_student(kid.id)
    assert all(r.status == "stopped" for r in runs)  # a failed setup closes its run


def test_a_lab_whose_step_keeps_failing_is_stopped(runner: LabRunner, runtime: Any,
                                                   kid: Any, store: Any) -> None:
    sub = runtime.bus.subscribe("lab.error")
    lab = runner.start("crashing_step_test", student_id=kid.id)
    wait_for(lambda: runner.active is None, timeout=10)
    assert store.runs.get(lab.run_id).status == "stopped"
    errors = drain(sub)
    assert len(errors) == 1 and "bad sensor value" in errors[0].data["message"]  # said once
    sub.close()


def test_a_restart_marks_cut_off_runs_interrupted(runtime: Any, store: Any, kid: Any,
                                                  labs: Any) -> None:
    run_id = store.runs.start(kid.id, lesson_id="x", project_id="button_led_test", steps_total=2)
    LabRunner(runtime, store, labs)
    assert store.runs.get(run_id).status == "interrupted"


def test_device_signal_picks_the_meaningful_value() -> None:
    assert device_signal({"type": "LED", "role": "output", "value": 1.0}) == 1.0
    assert device_signal({"type": "RGBLED", "value": (0, 1, 0)}) == [0, 1, 0]
    assert device_signal({"type": "AngularServo", "angle": 90.0}) == 90.0
    assert device_signal({"type": "Button", "pressed": True}) is True
    assert device_signal({"type": "MCP3008", "value": 0.2, "celsius": 22.0}) == 22.0
    assert device_signal({"type": "TonalBuzzer", "value": 0.5, "frequency": 440}) == 440
    assert device_signal({"type": "TonalBuzzer", "value": 0, "frequency": 440}) == 0


def test_closing_the_store_ends_the_active_run_first(runtime: Any, data_dir: Any, labs: Any) -> None:
    from labkit.store import Store

    store = Store(data_dir)
    kid = store.roster.add_student(store.roster.add_class("一班").id, "王芳")
    runner = LabRunner(runtime, store, labs)
    lab = runner.start("button_led_test", student_id=kid.id)
    store.close()
    assert runner.active is None
    again = Store(data_dir)
    assert again.runs.get(lab.run_id).status == "stopped"
    again.close()
