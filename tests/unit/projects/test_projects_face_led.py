"""The example lab: its checks on hand-made logs, and live on the synthetic camera."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from labkit.projects.eventlog import EventLog
from labkit.projects.face_led import FaceLed


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def make_log(face: list[tuple[float, bool]], led: list[tuple[float, float]], now: float) -> EventLog:
    clock = Clock()
    log = EventLog(clock=clock)
    for ts, v in sorted([(t, ("face", v)) for t, v in face] + [(t, ("led", v)) for t, v in led]):
        name, value = v
        log.record("model" if name == "face" else "hw", name, value, ts=ts)
    clock.t = now
    return log


def results(log: EventLog) -> dict[str, tuple[bool, float]]:
    return {k: (r.passed, r.count) for k, r in FaceLed().evaluate(log).items()}


# the face walks in for 4 s and out for 2 s, as on the synthetic camera
FACE = [(0, False), (1, True), (5, False), (7, True), (11, False), (13, True), (17, False)]


def test_led_following_the_face_passes_every_check() -> None:
    led = [(0, 0.0), (1.1, 1.0), (5.1, 0.0), (7.1, 1.0), (11.1, 0.0), (13.1, 1.0), (17.1, 0.0)]
    assert results(make_log(FACE, led, now=18)) == {
        "face_seen": (True, 1), "led_on_with_face": (True, 3), "led_off_without_face": (True, 2)}


def test_progress_counts_up_before_passing() -> None:
    led = [(0, 0.0), (1.1, 1.0), (5.1, 0.0), (7.1, 1.0)]
    assert results(make_log(FACE[:4], led, now=8)) == {
        "face_seen": (True, 1), "led_on_with_face": (False, 2), "led_off_without_face": (False, 1)}


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
                 "led_off_without_face": (False, 0)}


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
        deadline = time.monotonic() + 40
        while not lab.complete and time.monotonic() < deadline:
            time.sleep(0.2)
        assert lab.complete, lab.snapshot()
        run = store.runs.get(lab.run_id)
        assert {s.step_id for s in run.steps} == set(FaceLed.check_ids())
        # the log really holds the face coming and going, and the LED following it
        assert len(lab.log.rises("face")) >= 3 and len(lab.log.rises("led")) >= 3
    finally:
        runner.stop()
    assert runtime.bench.state()["led"]["value"] == 0.0
