"""RepCounter on synthetic angle sequences: hysteresis, debounce, missing joints, events."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from labkit.vision.reps import EXERCISES, RepCounter, measures


def squat_wave(reps: int, frames_per_rep: int = 30, noise: float = 0.0, seed: int = 0
               ) -> list[dict[str, Any]]:
    """Knee angle: 175° standing → 80° squatting → 175°, `reps` times, with noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(reps * frames_per_rep + 5):
        phase = (i % frames_per_rep) / frames_per_rep
        knee = 127.5 + 47.5 * math.cos(2 * math.pi * phase) + rng.normal(0, noise)
        out.append({"knee": knee})
    return out


@pytest.mark.parametrize("reps", [0, 1, 5])
def test_counts_squats(reps: int) -> None:
    counter = RepCounter(None, "squat")
    for m in squat_wave(reps, noise=3.0):
        counter.update(m)
    assert counter.value == reps
    counter.close()


def test_jitter_at_a_threshold_counts_once() -> None:
    """A knee wobbling across 100° (the 'down' threshold) and back up counts one squat."""
    counter = RepCounter(None, "squat")
    seq = [170] * 5 + [101, 99, 101, 98, 102, 97, 99, 96, 99, 101, 95] + [120, 150, 156, 158,
                                                                          160, 170]
    for knee in seq:
        counter.update({"knee": knee})
    assert counter.value == 1


def test_debounce_ignores_a_single_frame_spike() -> None:
    counter = RepCounter(None, "squat", min_frames=2)
    for knee in [170, 170, 80, 170, 170, 80, 170]:   # one-frame dips: noise, not squats
        counter.update({"knee": knee})
    assert counter.value == 0
    for knee in [80, 80, 80, 170, 170]:
        counter.update({"knee": knee})
    assert counter.value == 1


def test_half_reps_do_not_count() -> None:
    counter = RepCounter(None, "squat")
    for knee in [170] * 3 + [120] * 5 + [170] * 3:   # bends to 120°: not a squat
        counter.update({"knee": knee})
    assert counter.value == 0


def test_missing_joints_change_nothing() -> None:
    counter = RepCounter(None, "squat")
    for m in [{"knee": 170}] * 2 + [{"knee": 80}] * 3 + [{"knee": None}] * 10 + [{"knee": 170}] * 3:
        counter.update(m)
    assert counter.value == 1


def test_arm_raises_and_jumping_jacks() -> None:
    arms = RepCounter(None, "arm_raise")
    for _ in range(3):
        for s in [20] * 3 + [90] * 2 + [160] * 3 + [90] * 2 + [20] * 3:
            arms.update({"shoulder": s})
    assert arms.value == 3

    jacks = RepCounter(None, "jumping_jack")
    for _ in range(4):
        for s, spread in [(20, 1.0)] * 3 + [(150, 1.1)] * 3 + [(160, 2.0)] * 3 + [(20, 1.0)] * 3:
            jacks.update({"shoulder": s, "spread": spread})
    assert jacks.value == 4   # arms up alone (feet together) is not 'active'
    jacks.reset()
    assert jacks.value == 0 and jacks.state == "rest"


def test_events_fire_like_a_device() -> None:
    counter = RepCounter(None, "squat")
    downs, reps = [], []
    counter.when_activated = lambda: downs.append(1)
    counter.when_rep = lambda: reps.append(counter.value)
    for m in squat_wave(3):
        counter.update(m)
    assert downs == [1, 1, 1] and reps == [1.0, 2.0, 3.0]
    assert counter.is_active is False


def test_unknown_exercise() -> None:
    with pytest.raises(ValueError, match="unknown exercise"):
        RepCounter(None, "burpee")
    assert set(EXERCISES) == {"squat", "arm_raise", "jumping_jack", "sit_up"}


class FakePose:
    """Just enough of a Pose for `measures`."""

    def __init__(self, angles: dict[str, float | None], points: dict[str, tuple[float, float]],
                 hidden: tuple[str, ...] = ()) -> None:
        self.angles = angles
        self.points = points
        self.hidden = hidden

    def point(self, name: str) -> tuple[float, float]:
        return self.points[name]

    def visible(self, name: str) -> bool:
        return name in self.points and name not in self.hidden


def test_measures_from_a_pose() -> None:
    pts = {"left_ankle": (260.0, 400.0), "right_ankle": (140.0, 400.0),
           "left_shoulder": (230.0, 100.0), "right_shoulder": (170.0, 100.0)}
    pose = FakePose({"left_knee": 90.0, "right_knee": 100.0, "left_shoulder": None,
                     "right_shoulder": 30.0}, pts)
    m = measures(pose)
    assert m["knee"] == 95.0 and m["shoulder"] == 30.0 and m["elbow"] is None
    assert m["spread"] == pytest.approx(2.0)
    assert measures(FakePose({}, pts, hidden=("left_ankle",)))["spread"] is None


def test_follows_a_pose_tracker(pose_tracker: Any) -> None:
    """Wired to a tracker, the counter is fed each result once."""
    import cv2

    from tests.unit.vision.conftest import oracle_images

    counter = RepCounter(pose_tracker, "arm_raise", min_frames=1)
    seen = []
    original = counter.update
    counter.update = lambda m: seen.append(m) or original(m)   # type: ignore[method-assign]
    try:
        bgr = cv2.cvtColor(oracle_images.image("camera"), cv2.COLOR_RGB2BGR)
        pose_tracker.detect(bgr)
        pose_tracker.detect(bgr)
        # his arms hold the camera: between 'down' (45°) and 'up' (140°), so no change
        assert len(seen) == 2 and 45 < seen[0]["shoulder"] < 140
        assert counter.state == "rest" and counter.value == 0
    finally:
        counter.close()


def test_angle_is_the_followed_trackers_joint_signal_and_needs_a_tracker() -> None:
    class Tracker:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def signal(self, name: str, fn: object) -> object:
            return type("Sig", (), {"close": lambda self: None})()

        def angle(self, joint: str) -> str:
            self.asked.append(joint)
            return f"signal:{joint}"

    tracker = Tracker()
    counter = RepCounter(tracker, "squat")
    assert counter.angle("left_knee") == "signal:left_knee" and tracker.asked == ["left_knee"]
    counter.close()
    with pytest.raises(ValueError, match="no tracker"):
        RepCounter(None, "squat").angle("left_knee")
