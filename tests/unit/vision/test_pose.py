"""PoseTracker against mediapipe 0.10.14's Pose (static image mode, model_complexity=1)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from labkit.vision.pose import JOINTS, joint_angle
from tests.unit.vision.conftest import load_oracle, oracle_image, oracle_images

ORACLE = load_oracle("pose")


@pytest.mark.parametrize("key", sorted(ORACLE["images"]))
def test_pose_matches_mediapipe(pose_tracker: Any, key: str) -> None:
    ref = ORACLE["images"][key]
    w, h = ref["size"]
    result = pose_tracker.detect(oracle_image(key, ref["sha"]))
    if ref["landmarks"] is None:
        assert result.poses == () and pose_tracker.value == 0
        return
    assert len(result.poses) == 1
    got = np.array(result.poses[0].landmarks)
    want = np.array(ref["landmarks"])
    err = np.linalg.norm(got[:, :2] - want[:, :2] * (w, h), axis=1)
    assert err.mean() <= 0.02 * max(w, h)
    assert np.abs(got[:, 3] - want[:, 3]).max() < 0.05   # visibility


def test_angles_and_signals(pose_tracker: Any) -> None:
    """The cameraman: arms visible (angles), legs hidden by the tripod side (None → 0)."""
    key = "camera/orig"
    pose = pose_tracker.detect(oracle_image(key, ORACLE["images"][key]["sha"])).best
    assert set(pose.angles) == set(JOINTS)
    for joint, (a, b, c) in JOINTS.items():
        if not all(pose.visible(n) for n in (a, b, c)):
            assert pose.angles[joint] is None and pose_tracker.angle(joint).value == 0.0
            continue
        expected = joint_angle(np.array(pose.point(a)), np.array(pose.point(b)),
                               np.array(pose.point(c)))
        assert pose.angles[joint] == pytest.approx(expected, abs=0.1)
        assert pose_tracker.angle(joint).value == pytest.approx(pose.angles[joint])
    assert pose.angles["left_elbow"] is not None and pose.angles["right_elbow"] is not None
    assert pose.angles["left_knee"] is None
    assert pose_tracker.visible("nose").value == 1
    with pytest.raises(ValueError, match="unknown joint"):
        pose_tracker.angle("left_tail")


def test_tracking_follows_the_person_without_the_detector(model_store: Any) -> None:
    from labkit.vision import PoseTracker

    video = PoseTracker(store=model_store)
    try:
        base = oracle_images.image("astronaut")
        oracle = np.array(ORACLE["images"]["astronaut/orig"]["landmarks"])
        seen = oracle[:, 3] >= 0.5   # invisible (guessed) points may move with the crop
        ref = oracle[seen, :2] * 512
        for i, dx in enumerate((0, 4, 8, 12)):
            shifted = np.roll(base, dx, axis=1)
            got = video.detect(cv2.cvtColor(shifted, cv2.COLOR_RGB2BGR))
            assert got.detected == (i == 0) and len(got.poses) == 1
            lms = np.array(got.poses[0].landmarks)[seen, :2]
            assert np.linalg.norm(lms - (ref + (dx, 0)), axis=1).mean() <= 0.02 * 512
        gone = video.detect(np.zeros((512, 512, 3), np.uint8))
        assert gone.poses == ()
        assert video.detect(np.zeros((512, 512, 3), np.uint8)).detected   # looks again
    finally:
        video.close()


def test_draw(pose_tracker: Any) -> None:
    bgr = cv2.cvtColor(oracle_images.image("astronaut"), cv2.COLOR_RGB2BGR)
    drawn = pose_tracker.draw(bgr, pose_tracker.detect(bgr))
    assert drawn.shape == bgr.shape and not np.array_equal(drawn, bgr)
