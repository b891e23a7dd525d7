"""Held-out figures that mean what they say: split by recording, augment after the split.

Each test measures the reported figure against something independent of it (a fresh held-out
set drawn from the same distribution, or what chance allows) — never the figure against itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from labkit.models.evaluation import split_by_group
from labkit.models.trainable import train_classifier

CLASSES = ["开灯", "关灯", "前进", "后退"]
#: reported held-out accuracy vs a fresh 1600-sample set: n_test = 60 gives σ ≈ 6 points
TOLERANCE = 0.15


def _draw(rng: np.random.Generator, centres: np.ndarray, n: int, spread: float):
    X = np.concatenate([rng.normal(c, spread, (n, centres.shape[1])) for c in centres])
    y = [name for name in CLASSES for _ in range(n)]
    return X, y


def _hard_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.0, (len(CLASSES), 16))
    return rng, centres


def _copies(X: np.ndarray, rng: np.random.Generator, n: int = 3) -> np.ndarray:
    """Near-identical augmented copies (what noisy copies of a clip look like to a model)."""
    return np.concatenate([X + rng.normal(0, 0.05, X.shape) for _ in range(n)])


def test_leaky_augmentation_is_measured_honestly() -> None:
    rng, centres = _hard_problem()
    X, y = _draw(rng, centres, 60, spread=2.2)
    fresh_X, fresh_y = _draw(rng, centres, 400, spread=2.2)

    def augment(rows: np.ndarray):
        return _copies(X[rows], rng), [y[i] for i in rows] * 3

    honest = train_classifier(X, y, kind="knn", augment=augment, seed=0)
    fresh = np.mean(np.array(honest.predict(fresh_X)) == np.array(fresh_y))
    assert 0.4 < fresh < 0.9, "the problem must be neither trivial nor hopeless"
    assert abs(honest.metrics["accuracy"] - fresh) <= TOLERANCE

    # the same copies passed as samples of their own recording are held out together
    X_all = np.concatenate([X, _copies(X, rng)])
    y_all = y * 4
    groups = list(range(len(y))) * 4
    grouped = train_classifier(X_all, y_all, kind="knn", groups=groups, seed=0)
    fresh_g = np.mean(np.array(grouped.predict(fresh_X)) == np.array(fresh_y))
    assert abs(grouped.metrics["accuracy"] - fresh_g) <= TOLERANCE

    # and the configuration is leaky: without groups the figure would be inflated far beyond
    # the tolerance (so the two checks above can fail)
    leaky = train_classifier(X_all, y_all, kind="knn", seed=0)
    assert leaky.metrics["accuracy"] - fresh_g > TOLERANCE


def test_a_recording_never_straddles_the_split() -> None:
    y = np.repeat(np.arange(3), 20)
    groups = [f"rec{i // 5}" for i in range(60)]          # 4 recordings of 5 pieces per class
    split = split_by_group(y, groups, 3, test_size=0.25, seed=3)
    train_groups = {groups[i] for i in split.train}
    test_groups = {groups[i] for i in split.test}
    assert not train_groups & test_groups
    assert set(y[split.test].tolist()) == {0, 1, 2} and not split.unmeasured


def test_one_recording_is_too_few_to_measure() -> None:
    rng, centres = _hard_problem(1)
    X, y = _draw(rng, centres, 6, spread=0.3)
    groups = [f"{label}-{i % 3}" for i, label in enumerate(y)]
    groups[18:24] = ["one long recording"] * 6             # 后退: a single recording
    clf = train_classifier(X, y, groups=groups)
    assert clf.metrics["measured"] is False and clf.metrics["accuracy"] is None
    card = clf.model_card()
    assert card["accuracy"] is None and card["measured"] is False
    assert {"code": "not_measured", "classes": ["后退"]} in card["warnings"]
    assert clf.predict(X[:1]) == [y[0]]                     # it still trains on everything


def test_guessing_is_said_and_bars_are_calibrated() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(0, 1, (60, 10))
    y = [CLASSES[i % 3] for i in range(60)]                 # labels unrelated to features
    clf = train_classifier(X, y, kind="knn", seed=0)
    codes = [w["code"] for w in clf.metrics["warnings"]]
    assert "guessing" in codes
    fresh = clf.predict_proba(rng.normal(0, 1, (200, 10)))
    # a model that guessed on held-out samples never shows a confident bar on new ones
    assert fresh.max() <= 1 / 3 + 0.67 * clf.calibration["skill"] + 1e-9
    assert fresh.max(axis=1).mean() < 0.6
    np.testing.assert_allclose(fresh.sum(axis=1), 1.0, atol=1e-9)


def test_good_model_is_not_called_guessing_and_keeps_its_confidence() -> None:
    rng, centres = _hard_problem(2)
    X, y = _draw(rng, centres * 6, 20, spread=0.5)
    clf = train_classifier(X, y, seed=0)
    assert clf.metrics["accuracy"] >= 0.95
    assert not [w for w in clf.metrics["warnings"] if w["code"] in ("guessing", "look_alike")]
    assert clf.predict_proba(X).max(axis=1).mean() > 0.8


def test_look_alike_classes_are_named_from_the_confusion_matrix() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(0, 1, (24, 8))
    b = rng.normal(0, 1, (24, 8))                            # same distribution as a
    c = rng.normal(8, 1, (24, 8))
    clf = train_classifier(np.concatenate([a, b, c]), ["开心"] * 24 + ["开始"] * 24 + ["结束"] * 24)
    alike = [w for w in clf.metrics["warnings"] if w["code"] == "look_alike"]
    assert [sorted(w["classes"]) for w in alike] == [sorted(["开心", "开始"])]
    assert clf.metrics["per_class"]["结束"]["accuracy"] == 1.0


@pytest.mark.parametrize("n", [3, 5])
def test_few_samples_are_flagged(n: int) -> None:
    rng, centres = _hard_problem(3)
    X, y = _draw(rng, centres * 5, n, spread=0.3)
    clf = train_classifier(X, y)
    few = [w for w in clf.metrics["warnings"] if w["code"] == "few_samples"]
    assert few and set(few[0]["classes"]) == set(CLASSES)
