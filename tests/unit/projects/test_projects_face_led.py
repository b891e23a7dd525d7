"""The example lab (a lab.yaml with no Python): its checks on hand-made logs, live on the
synthetic camera, and its demo scenario on a simulated clock."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from labkit.projects.eventlog import EventLog
from labkit.projects.registry import discover

FaceLed = discover().get("face_led")   # the package's lab folder, made into a Project


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def make_log(face: list[tuple[float, bool]], led: list[tuple[float, float]], now: float,
             rgb: list[tuple[float, tuple[float, float, float]]] = ()) -> EventLog:
    clock = Clock()
    log = EventLog(clock=clock)
    for ts, v in sorted([(t, ("face", v)) for t, v in face] + [(t, ("led", v)) for t, v in led]
                        + [(t, ("rgb", v)) for t, v in rgb]):
        name, value = v
        log.record("model" if name == "face" else "hw", name, value, ts=ts)
    clock.t = now
    return log


def results(log: EventLog) -> dict[str, tuple[bool, float]]:
    return {k: (r.passed, r.count) for k, r in FaceLed().evaluate(log).items()}


# the face walks in for 4 s and out for 2 s, as on the synthetic camera
FACE = [(0, False), (1, True), (5, False), (7, True), (11, False), (13, True), (17, False)]


GREEN, BLUE, OFF = (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (0.0, 0.0, 0.0)


def test_led_following_the_face_passes_every_check() -> None:
    led = [(0, 0.0), (1.1, 1.0), (5.1, 0.0), (7.1, 1.0), (11.1, 0.0), (13.1, 1.0), (17.1, 0.0)]
    rgb = [(0, OFF), (1.1, GREEN), (5.1, OFF), (7.1, GREEN), (9, BLUE), (11.1, OFF)]
    assert results(make_log(FACE, led, now=18, rgb=rgb)) == {
        "face_seen": (True, 1), "led_on_with_face": (True, 3), "led_off_without_face": (True, 2),
        "colour_follows_faces": (True, 2)}


def test_the_extension_step_needs_the_rgb_led() -> None:
    """Without the RGB LED lit by faces, the extension step stays open; the LED steps pass."""
    led = [(0, 0.0), (1.1, 1.0), (5.1, 0.0), (7.1, 1.0), (11.1, 0.0), (13.1, 1.0), (17.1, 0.0)]
    r = results(make_log(FACE, led, now=18, rgb=[(0, OFF)]))
    assert r["led_on_with_face"] == (True, 3) and r["colour_follows_faces"] == (False, 0)


def test_progress_counts_up_before_passing() -> None:
    led = [(0, 0.0), (1.1, 1.0), (5.1, 0.0), (7.1, 1.0)]
    assert results(make_log(FACE[:4], led, now=8)) == {
        "face_seen": (True, 1), "led_on_with_face": (False, 2), "led_off_without_face": (False, 1),
        "colour_follows_faces": (False, 0)}


def test_an_led_that_is_always_on_does_not_pass() -> None:
    r = results(make_log(FACE, [(0, 1.0)], now=18))
    assert r["led_on_with_face"] == (False, 1) and r["led_off_without_face"] == (False, 0)


def test_an_led_that_never_lights_does_not_pass() -> None:
    r = results(make_log(FACE, [(0, 0.0)], now=18))
    assert r["face_seen"] == (True, 1)
    assert r["led_on_with_face"] == (False, 0) and r["led_off_without_face"] == (False, 0)


def test_an_inverted_led_does_not_pass() -> None:
    """On when nobody is there, off when a face is: wrong program, no green checks."""
    led = [(0, 1.0), (1.1, 0.0), (5.1, 1.0), (7.1, 0.0), (11.1, 1.0), (13.1, 0.0), (17.1, 1.0)]
    r = results(make_log(FACE, led, now=18))
    assert not r["led_on_with_face"][0] and not r["led_off_without_face"][0]


def test_a_flicker_during_a_face_does_not_count() -> None:
    led = [(0, 0.0), (2, 1.0), (2.05, 0.0), (8, 1.0), (8.05, 0.0), (14, 1.0), (14.1, 0.0)]
    assert results(make_log(FACE, led, now=18))["led_on_with_face"] == (False, 0)


def test_no_face_ever_means_nothing_passes() -> None:
    r = results(make_log([(0, False)], [(0, 0.0)], now=30))
    assert r == {"face_seen": (False, 0), "led_on_with_face": (False, 0),
                 "led_off_without_face": (False, 0), "colour_follows_faces": (False, 0)}


@pytest.mark.slow
def test_face_led_goes_green_by_itself_on_the_synthetic_camera(
        runtime: Any, store: Any, kid: Any, model_store: Any, data_dir: Path) -> None:
    """Real BlazeFace on the synthetic camera, whose face walks in and out of view."""
    from labkit.projects.registry import registry
    from labkit.projects.runner import LabRunner

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    runner = LabRunner(runtime, store, registry())
    lab = runner.start("face_led", student_id=kid.id)
    try:
        # three walks of the face take 12 s at the camera's 15 fps (the walk is counted in
        # frames): far longer on a busy machine that renders and detects fewer of them
        deadline = time.monotonic() + 120
        while not lab.complete and time.monotonic() < deadline:
            time.sleep(0.2)
        assert lab.complete, lab.snapshot()
        run = store.runs.get(lab.run_id)
        assert {s.check_id for s in run.steps} == set(FaceLed.check_ids())
        # the log really holds the face coming and going, and the LED following it
        assert len(lab.log.rises("face")) >= 3 and len(lab.log.rises("led")) >= 3
    finally:
        runner.stop()
    assert runtime.bench.state()["led"]["value"] == 0.0


def test_face_led_is_declared_not_programmed() -> None:
    spec = FaceLed.spec
    assert not (spec.folder / "checks.py").exists()
    assert list(spec.folder.glob("*.py")) == []
    assert FaceLed.hardware == ("camera", "led", "rgb") and FaceLed.devices() == ["led", "rgb"]
    assert spec.panels() == {"camera": True, "microphone": False, "devices": ["led", "rgb"],
                             "overlays": ["faces"], "parts": []}
    assert spec.signal_labels("en") == {"face": "Face in view", "people": "How many faces"}


@pytest.mark.slow
def test_face_led_demo_goes_green_on_a_simulated_clock(
        runtime: Any, store: Any, kid: Any, model_store: Any, data_dir: Path) -> None:
    """The scripted demo: the real detector runs on every frame; only waiting is skipped."""
    from labkit.projects.clock import SimClock
    from labkit.projects.runner import LabRunner

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    clock = SimClock(1_000_000.0)
    runner = LabRunner(runtime, store, discover(), clock=clock)
    lab = runner.start("face_led", student_id=kid.id, demo=True)
    try:
        deadline = time.monotonic() + 60
        while not lab.demo_done and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lab.complete, lab.snapshot()
        assert {s.check_id for s in store.runs.get(lab.run_id).steps} == set(FaceLed.check_ids())
        # scenario time: the face came at 0, 6 and 12 s, and the LED followed each time
        rises = [round(t - 1_000_000.0, 1) for t in lab.log.rises("face")]
        assert rises[:3] == [0.0, 6.0, 12.0], rises
        assert len(lab.log.rises("led")) >= 3
        assert clock.now() - 1_000_000.0 >= 12.0
        # the extension: the RGB LED's colour says how many faces (1 green, 2 blue, none off)
        colours: dict[int, set[tuple[float, ...]]] = {}
        faces = 0
        for entry in lab.log.entries():
            if entry.name == "people":
                faces = int(entry.value)
            elif entry.name == "rgb":
                colours.setdefault(faces, set()).add(tuple(round(c, 2) for c in entry.value))
        assert (0.0, 1.0, 0.0) in colours.get(1, set()), colours
        assert (0.0, 0.0, 1.0) in colours.get(2, set()), colours
    finally:
        runner.stop()
