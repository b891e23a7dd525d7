"""Honest evaluation for every teachable model: held-out by recording, before any augmentation.

A kit that teaches "test on data the model has not seen" has to do it itself. Every trainer
(images, hands, pose, sound, sensors in `labkit.learn`, command words in `labkit.audio_ai`)
goes through `labkit.models.trainable.train_classifier`, which uses this module to:

1. **split by recording** (`groups`: one id per recording; all pieces of one background
   recording, every augmented copy of a clip, and — when known — every clip of one speaker or
   session share an id), so no copy of a training sample ever lands in the test part;
2. augment the *training* part only (the caller's `augment(indices)` sees training indices);
3. measure accuracy, per-class accuracy and the confusion matrix on held-out samples only;
4. turn the held-out result into plain-words warnings (not better than guessing, classes that
   look alike, classes with too few samples) and a calibration of the live confidences, so a
   model that was right 25% of the time never shows a 100% bar.

The saved model is then trained on *all* samples (`trainable` does that); the figures stay the
held-out ones. When nothing can be held out (each class needs a recording for testing and two
for training), `measured` is False and `accuracy` is None — "too few samples to measure",
never 100%.

    split = split_by_group(y_idx, groups, n_classes, test_size=0.25, seed=0)
    ev = measure(truth, proba, classes, sample_counts)     # ev.accuracy, ev.per_class, ...
    ev.calibration                                          # {"skill", "chance", "n_classes"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

#: a class needs at least this many training recordings left after holding one out
MIN_TRAIN_GROUPS = 2
#: fewer samples than this in a class gets a "record more" warning
FEW_SAMPLES = 8
#: two classes "look alike" when at least this share of their held-out samples are swapped
LOOK_ALIKE_SHARE = 0.25
#: not better than guessing unless a one-sided binomial test beats chance at this level
GUESSING_P = 0.05


@dataclass
class Split:
    """Indices into the original samples; `unmeasured` lists classes with nothing held out."""

    train: np.ndarray
    test: np.ndarray
    unmeasured: list[int] = field(default_factory=list)


def split_by_group(y_idx: np.ndarray, groups: Sequence[Any] | None, n_classes: int,
                   test_size: float = 0.25, seed: int = 0) -> Split:
    """Hold out whole groups (recordings/speakers), about `test_size` of each class.

    Each group goes wholly to one side. Groups are drawn in a seeded random order; a group is
    held out only while every class in it keeps `MIN_TRAIN_GROUPS` training groups and has
    not yet reached its share (at least one group). A class with too few groups is trained
    on but not measured. Without `groups`, each sample is its own group (a stratified split).
    """
    y_idx = np.asarray(y_idx, dtype=np.int64)
    n = len(y_idx)
    if groups is None:
        gid = np.arange(n)
    else:
        if len(groups) != n:
            raise ValueError("groups must give one id per sample")
        _, gid = np.unique(np.asarray([str(g) for g in groups]), return_inverse=True)
    n_groups = int(gid.max()) + 1 if n else 0
    members = [np.flatnonzero(gid == g) for g in range(n_groups)]
    group_classes = [set(y_idx[m].tolist()) for m in members]
    groups_per_class = np.zeros(n_classes, np.int64)
    samples_per_class = np.bincount(y_idx, minlength=n_classes)
    for cls in group_classes:
        for c in cls:
            groups_per_class[c] += 1
    # each class's target: its share of samples, at least one, never more than it can spare
    target = np.maximum(1, np.round(test_size * samples_per_class)).astype(np.int64)
    held_groups = np.zeros(n_classes, np.int64)
    held_samples = np.zeros(n_classes, np.int64)
    rng = np.random.default_rng(seed)
    test_groups: list[int] = []
    for g in rng.permutation(n_groups):
        cls = group_classes[g]
        if any(groups_per_class[c] - held_groups[c] - 1 < MIN_TRAIN_GROUPS for c in cls):
            continue
        if all(held_samples[c] >= target[c] for c in cls):
            continue
        test_groups.append(int(g))
        for c in cls:
            held_groups[c] += 1
            held_samples[c] += int((y_idx[members[g]] == c).sum())
    test_mask = np.zeros(n, bool)
    for g in test_groups:
        test_mask[members[g]] = True
    unmeasured = [c for c in range(n_classes) if held_samples[c] == 0]
    return Split(np.flatnonzero(~test_mask), np.flatnonzero(test_mask), unmeasured)


@dataclass
class Evaluation:
    """Held-out figures and what they mean for a student (all JSON-able via `to_json`)."""

    measured: bool
    accuracy: float | None
    chance: float
    n_test: int
    per_class: dict[str, dict[str, Any]]
    confusion: np.ndarray
    warnings: list[dict[str, Any]]
    calibration: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"measured": self.measured, "accuracy": self.accuracy, "chance": self.chance,
                "n_test": self.n_test, "per_class": self.per_class,
                "confusion": self.confusion.tolist(), "warnings": self.warnings,
                "calibration": self.calibration}


def chance_level(truth: np.ndarray, n_classes: int) -> float:
    """What guessing scores: always answering the most common held-out class (≥ 1/C)."""
    if len(truth) == 0:
        return 1.0 / max(1, n_classes)
    share = np.bincount(truth, minlength=n_classes).max() / len(truth)
    return float(max(1.0 / n_classes, share))


def better_than_guessing(correct: int, n: int, chance: float) -> bool:
    """One-sided binomial test: is `correct` of `n` clearly above `chance`?"""
    from scipy.stats import binomtest

    if n == 0:
        return False
    return bool(binomtest(int(correct), int(n), min(max(chance, 1e-6), 1 - 1e-6),
                          alternative="greater").pvalue < GUESSING_P)


def skill(accuracy: float | None, chance: float) -> float:
    """How far above guessing the model is, 0 (guessing) … 1 (always right)."""
    if accuracy is None or chance >= 1.0:
        return 1.0
    return float(min(1.0, max(0.0, (accuracy - chance) / (1.0 - chance))))


def calibrate(proba: np.ndarray, calibration: dict[str, Any] | None) -> np.ndarray:
    """Shrink probabilities towards 1/C by the held-out skill: p' = s·p + (1 − s)/C.

    Why this form: it keeps the ranking (the predicted class never changes), keeps rows
    summing to 1, and caps the top bar at s + (1 − s)/C — a model that guessed on held-out
    samples (s = 0) shows every class at 1/C instead of a confident 100%.
    """
    p = np.asarray(proba, dtype=np.float64)
    if not calibration:
        return p
    s = float(calibration.get("skill", 1.0))
    if s >= 1.0:
        return p
    return s * p + (1.0 - s) / p.shape[-1]


def measure(truth: np.ndarray, proba: np.ndarray, classes: Sequence[str],
            sample_counts: dict[str, int], unmeasured: Sequence[int] = ()) -> Evaluation:
    """Held-out accuracy, per-class accuracy, confusion, warnings and calibration."""
    from sklearn.metrics import confusion_matrix

    n_classes = len(classes)
    truth = np.asarray(truth, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64).reshape(len(truth), n_classes)
    pred = proba.argmax(axis=1) if len(truth) else np.zeros(0, np.int64)
    conf = confusion_matrix(truth, pred, labels=list(range(n_classes))) if len(truth) else \
        np.zeros((n_classes, n_classes), np.int64)
    measured = len(truth) >= 2 and not unmeasured
    correct = int(np.trace(conf))
    accuracy = correct / len(truth) if measured else None
    chance = chance_level(truth, n_classes)
    per_class: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(classes):
        row = int(conf[i].sum())
        per_class[name] = {"accuracy": (float(conf[i, i] / row) if row else None),
                           "n_test": row, "n_samples": int(sample_counts.get(name, 0))}
    warnings: list[dict[str, Any]] = []
    if not measured:
        warnings.append({"code": "not_measured",
                         "classes": [classes[c] for c in unmeasured]})
    elif not better_than_guessing(correct, len(truth), chance):
        warnings.append({"code": "guessing", "accuracy": round(accuracy or 0.0, 4),
                         "chance": round(chance, 4), "n_test": int(len(truth))})
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            swapped = int(conf[i, j] + conf[j, i])
            both = int(conf[i].sum() + conf[j].sum())
            if swapped >= 2 and both and swapped / both >= LOOK_ALIKE_SHARE:
                warnings.append({"code": "look_alike", "classes": [classes[i], classes[j]],
                                 "swapped": swapped, "of": both})
    few = [name for name in classes if sample_counts.get(name, 0) < FEW_SAMPLES]
    if few:
        warnings.append({"code": "few_samples", "classes": few, "min": FEW_SAMPLES})
    calibration = {"method": "shrink_to_uniform", "skill": round(skill(accuracy, chance), 4),
                   "chance": round(chance, 4), "n_classes": n_classes}
    return Evaluation(measured=measured, accuracy=accuracy, chance=chance,
                      n_test=int(len(truth)), per_class=per_class, confusion=conf,
                      warnings=warnings, calibration=calibration)
