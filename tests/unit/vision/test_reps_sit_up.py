"""Sit-ups: the trunk measure from keypoints, the counter's form rule on keypoint traces (full
sit-ups count, half ones are movements that do not), and the real pose model counting the
synthetic camera's side-view sit-ups."""

from __future__ import annotations

import math
from typing import Any

import pytest

from labkit.drivers.scenes import render
from labkit.vision.reps import SIT_UP_DOWN, SIT_UP_START, SIT_UP_UP, RepCounter, measures


class KeypointPose:
    """Shoulders and hips only, as a side view shows them (the far side hidden or not)."""

    def __init__(self, trunk: float, facing: int = -1, far_side: bool = True) -> None:
        hip = (380.0, 420.0)
        a = math.radians(trunk)
        shoulder = (hip[0] + facing * 140 * math.cos(a), hip[1] - 140 * math.sin(a))
        self.points = {"left_hip": hip, "left_shoulder": shoulder}
        if far_side:   # the far side a few pixels off, as the model puts it
            self.points |= {"right_hip": (hip[0] + 4, hip[1] - 2),
                            "right_shoulder": (shoulder[0] + 4, shoulder[1] - 2)}
        self.angles: dict[str, float | None] = {}

    def point(self, name: str) -> tuple[float, float]:
        return self.points[name]

    def visible(self, name: str) -> bool:
        return name in self.points


def trace(peaks: list[float], frames_per_rep: int = 20, rest: float = 4.0) -> list[float]:
    """Trunk angles lying → `peak` → lying, one cycle per peak, then a few lying frames."""
    out = []
    for peak in peaks:
        for i in range(frames_per_rep):
            out.append(rest + (peak - rest) * (1 - math.cos(2 * math.pi * i / frames_per_rep)) / 2)
    return out + [rest] * 4


@pytest.mark.parametrize("facing", [-1, 1])
def test_trunk_is_the_angle_above_the_floor_either_way_the_child_faces(facing: int) -> None:
    for trunk in (0.0, 30.0, 75.0, 90.0):
        assert measures(KeypointPose(trunk, facing))["trunk"] == pytest.approx(trunk, abs=2.0)
    assert measures(KeypointPose(45.0, facing, far_side=False))["trunk"] == pytest.approx(45.0)


def test_no_trunk_without_a_shoulder_or_a_hip() -> None:
    pose = KeypointPose(45.0, far_side=False)
    del pose.points["left_hip"]
    assert measures(pose)["trunk"] is None
    counter = RepCounter(None, "sit_up")
    for _ in range(5):
        counter.update_pose(pose)
    assert counter.value == 0 and counter.attempts == 0


def test_full_sit_ups_count_and_half_ones_are_movements_only() -> None:
    counter = RepCounter(None, "sit_up")
    # 3 full (up to 80°), 2 half (to 40°: past the start of a movement, short of 'up')
    for trunk in trace([80, 80, 40, 80, 40]):
        counter.update_pose(KeypointPose(trunk))
    assert counter.value == 3 and counter.attempts == 5


def test_not_lying_back_down_does_not_count_twice() -> None:
    """Up, half-way down (to 35°, above the 'back down to lying' line), up again, down: one."""
    counter = RepCounter(None, "sit_up")
    seq = [4.0] * 4 + [80.0] * 4 + [35.0] * 4 + [80.0] * 4 + [4.0] * 4
    for trunk in seq:
        counter.update_pose(KeypointPose(trunk))
    assert counter.value == 1 and counter.attempts == 1
    assert SIT_UP_DOWN < SIT_UP_START < 35.0 < SIT_UP_UP


def test_the_pose_model_counts_the_synthetic_sit_ups(model_store: Any) -> None:
    """Two full sit-ups then two half ones, 10 frames a second, the tracker following the body
    from frame to frame as in a lab: 2 counted of 4 movements."""
    from labkit.vision import PoseTracker

    tracker = PoseTracker(store=model_store)
    counter = RepCounter(None, "sit_up")
    seen = 0
    try:
        for depth in (1.0, 0.4):
            for i in range(40):
                frame = render("exercise", {"exercise": "sit_up", "period": 2, "depth": depth},
                               i / 10)
                best = tracker.detect(frame).best
                if best is not None:
                    seen += 1
                    counter.update_pose(best)
    finally:
        tracker.close()
    assert seen >= 75, f"the body was found in {seen} of 80 frames"
    assert counter.value == 2 and counter.attempts == 4


def test_lying_down_from_standing_is_not_a_sit_up() -> None:
    """Upright first (a child standing, trunk near 90°), then lying: nothing counts until
    lying has been seen; the sit-ups after it do."""
    counter = RepCounter(None, "sit_up")
    for trunk in [88.0] * 6 + [50.0] * 2 + [4.0] * 6:
        counter.update_pose(KeypointPose(trunk))
    assert counter.value == 0 and counter.attempts == 0 and not counter.is_active
    for trunk in trace([80, 80]):
        counter.update_pose(KeypointPose(trunk))
    assert counter.value == 2 and counter.attempts == 2
    counter.reset()
    assert counter.state == "waiting" and counter.value == 0
