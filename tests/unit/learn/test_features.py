"""Feature extractors: the right size, the right invariances, NaN for what they cannot see."""

from __future__ import annotations

import numpy as np

from labkit.learn.features import (HogColourExtractor, LandmarkExtractor, SensorExtractor,
                                   SoundExtractor, normalise_hand, normalise_pose)
from labkit.learn.synthetic import hand_landmarks, pose_landmarks
from labkit.models.trainable import train_classifier


def _turn(points: np.ndarray, angle: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    out = points.copy()
    out[:, :2] = points[:, :2] @ rot.T * scale + shift
    out[:, 2] = points[:, 2] * scale
    return out


def test_hand_features_ignore_place_size_turn_and_mirror() -> None:
    lm = hand_landmarks("open", np.random.default_rng(0))
    ref = normalise_hand(lm)
    assert ref.shape == (63,)
    np.testing.assert_allclose(normalise_hand(_turn(lm, 0.8, 2.5, (100, -40))), ref, atol=1e-5)
    mirrored = lm.copy()
    mirrored[:, 0] *= -1
    np.testing.assert_allclose(normalise_hand(mirrored), ref, atol=1e-5)
    fist = normalise_hand(hand_landmarks("fist", np.random.default_rng(0)))
    assert np.abs(fist - ref).max() > 0.3


def test_pose_features_ignore_place_and_size() -> None:
    lm = pose_landmarks("t_pose", np.random.default_rng(1))
    ref = normalise_pose(lm)
    assert ref.shape == (132,)
    moved = lm.copy()
    moved[:, :3] *= 3.0
    moved[:, :2] += (0.2, -0.1)
    np.testing.assert_allclose(normalise_pose(moved), ref, atol=1e-5)


def test_synthetic_poses_and_gestures_separate() -> None:
    """Landmark sets of different children (jitter, place, size, tilt) → ≥ 2 poses apart."""
    rng = np.random.default_rng(2)
    for names, norm, make in ((("stand", "arms_up", "t_pose"), normalise_pose, pose_landmarks),
                              (("open", "fist"), normalise_hand, hand_landmarks)):
        X = [norm(make(n, rng)) for _ in range(30) for n in names]
        y = [n for _ in range(30) for n in names]
        clf = train_classifier(X, y, kind="logistic", seed=3)
        assert clf.metrics["accuracy"] >= 0.95, (names, clf.confusion)


def test_landmark_extractor_marks_missing_hands_as_nan() -> None:
    lm = hand_landmarks("open", np.random.default_rng(0))
    seen = []

    def tracker(image: np.ndarray):   # a picture with a red square has "a hand"
        seen.append(image.shape)
        return lm if image[..., 2].max() > 200 else None

    ex = LandmarkExtractor("hand", tracker)
    empty = np.zeros((60, 80, 3), np.uint8)
    marked = empty.copy()
    marked[10:20, 10:20, 2] = 255
    rows = ex.extract([empty, marked, lm])            # a landmark array is used as it is
    assert np.isnan(rows[0]).all()
    np.testing.assert_allclose(rows[1], normalise_hand(lm))
    np.testing.assert_allclose(rows[2], normalise_hand(lm))
    assert seen == [(60, 80, 3), (60, 80, 3)]


def test_hog_colour_sees_colour_and_shape() -> None:
    ex = HogColourExtractor()
    red = np.zeros((120, 160, 3), np.uint8)
    red[..., 2] = 220
    blue = np.zeros((120, 160, 3), np.uint8)
    blue[..., 0] = 220
    rows = ex.extract([red, blue, red])
    assert rows.shape == (3, ex.dim) and np.isfinite(rows).all()
    assert np.allclose(rows[0], rows[2]) and not np.allclose(rows[0], rows[1])


def test_sensor_window_statistics() -> None:
    ex = SensorExtractor(["distance", "light"])
    t = np.arange(10) / 10
    window = {"channels": ["light", "distance"], "rate": 10,
              "values": np.stack([np.full(10, 0.3), 1.0 + 2.0 * t], 1).tolist()}
    (row,) = ex.extract([window])
    mean, std, lo, hi, slope = row[:5]                 # distance comes first
    assert (lo, hi) == (1.0, np.float32(2.8)) and abs(slope - 2.0) < 1e-5
    assert row[5] == np.float32(0.3) and abs(row[6]) < 1e-6 and abs(row[9]) < 1e-6
    assert np.isnan(ex.extract([{"channels": ["light"], "values": [[1], [2]]}])).all()


def test_sound_features_are_fixed_size() -> None:
    ex = SoundExtractor()
    rng = np.random.default_rng(0)
    short = (rng.normal(0, 3000, 8000)).astype(np.int16)
    long = (rng.normal(0, 3000, 30000)).astype(np.int16)
    rows = ex.extract([short, long, np.zeros(10, np.int16)])
    assert rows.shape == (3, ex.dim) and np.isfinite(rows[:2]).all() and np.isnan(rows[2]).all()
