"""Hand and pose projects with the real trackers from labkit.vision.

Hands: the vision oracle's rendered hands (tests/fixtures/oracle/hands_images.py) with
augmentations — size, place, tilt, background, left/right — through HandTracker.
Pose: the oracle has one person in one pose, so pose classes are separated on generated
landmark sets (test_features.py); here the PoseTracker path is checked end to end on the
oracle photo.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from labkit.learn.dataset import ProjectStore
from labkit.learn.features import LandmarkExtractor, vision_tracker
from labkit.learn.model import Predictor, train_project
from tests.fixtures.oracle.hands_images import render_hand


@pytest.fixture(scope="module")
def hand_tracker(model_store: Any) -> Any:
    tracker = vision_tracker("hand", model_store)
    assert tracker is not None
    return tracker


def _hands(pose: str, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for i in range(n):
        rgb = render_hand(pose, scale=float(rng.uniform(60, 75)),
                          centre=(float(rng.uniform(0.45, 0.55)), float(rng.uniform(0.58, 0.66))),
                          rotation=float(rng.uniform(-12, 12)),
                          background=("light", "wood", "blue")[i % 3], mirror=bool(i % 2))
        out.append(np.ascontiguousarray(rgb[..., ::-1]))
    return out


def test_hand_gesture_project_separates_two_gestures(tmp_path, hand_tracker, model_store) -> None:
    rng = np.random.default_rng(0)
    store = ProjectStore(tmp_path / "kit")
    p = store.create("手势", "hand", ["张开", "指"])
    images = {"张开": _hands("open", 14, rng), "指": _hands("point", 14, rng)}
    for c in p.classes:
        for img in images[c.name]:
            p.add_sample(c.id, img)
    report = train_project(p, LandmarkExtractor("hand", hand_tracker))
    assert report.card["input"]["name"] == "hand_landmarks/1"
    assert report.card["accuracy"] >= 0.95, report.confusion
    # pictures without a hand are reported as skipped, not silently used
    assert all(s["reason"] for s in report.skipped)
    assert len(report.skipped) <= 6
    predictor = Predictor(p, store=model_store, tracker=hand_tracker)
    fresh = np.random.default_rng(7)
    got = [predictor.predict(img)["label"] for img in _hands("open", 3, fresh)]
    assert got.count("张开") >= 2
    empty = np.full((360, 480, 3), 200, np.uint8)
    assert predictor.predict(empty)["label"] is None             # no hand: no guess


def test_pose_tracker_feeds_pose_features(model_store: Any) -> None:
    from tests.fixtures.oracle.images import image

    tracker = vision_tracker("pose", model_store)
    assert tracker is not None
    person = np.ascontiguousarray(image("astronaut")[..., ::-1])
    ex = LandmarkExtractor("pose", tracker)
    rows = ex.extract([person, np.full((200, 200, 3), 30, np.uint8)])
    assert np.isfinite(rows[0]).all() and np.isnan(rows[1]).all()
    xyz = rows[0].reshape(33, 4)
    assert abs(xyz[23:25, :2].mean(0)).max() < 1e-5             # centred on the hips
