"""The bias lab: trained on skewed examples, k-NN misses the rare class on a balanced test set
— a per-class gap measured with labkit.models.evaluation — and balanced examples close it.
The lab's two models are exactly the two training files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from labkit.models.decision_tree import read_rows
from labkit.models.evaluation import measure
from labkit.projects.bindings import nearest
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.expr import parse

LAB = Path(PACKAGE_LABS) / "cognition" / "bias_lab"
CLASSES = ("wait", "water")


def points(name: str) -> list[list[float]]:
    rows, labels = read_rows(LAB / "assets" / f"{name}.csv", ("soil", "light"))
    return [[r["soil"], r["light"], CLASSES.index(lab)] for r, lab in zip(rows, labels,
                                                                         strict=True)]


def per_class(train: str) -> dict[str, float]:
    test = points("test")
    model = nearest(points(train), 3, iter(p[0] for p in test), iter(p[1] for p in test))
    pred = [next(model) for _ in test]
    ev = measure(np.array([p[2] for p in test]), np.eye(2)[pred], CLASSES,
                 {c: 10 for c in CLASSES})
    return {c: ev.per_class[c]["accuracy"] for c in CLASSES}


def test_the_test_set_is_balanced_and_the_training_set_is_not() -> None:
    test, skewed = [p[2] for p in points("test")], [p[2] for p in points("skewed")]
    assert test.count(0) == test.count(1) == 10
    assert skewed.count(1) * 5 < skewed.count(0)


def test_skewed_examples_give_a_measurable_per_class_gap() -> None:
    skewed, balanced = per_class("skewed"), per_class("balanced")
    assert skewed["wait"] - skewed["water"] >= 0.3          # measured: 1.0 vs 0.6
    assert abs(balanced["wait"] - balanced["water"]) <= 0.25  # measured: 0.8 vs 1.0
    assert balanced["water"] > skewed["water"]


def test_the_labs_models_are_the_training_files() -> None:
    lab = yaml.safe_load((LAB / "lab.yaml").read_text("utf-8"))
    led = parse(lab["bindings"]["led.source"])
    rgb = parse(lab["bindings"]["rgb.color"])
    assert led.args[0].value == points("skewed")
    assert rgb.args[0].args[0].value == points("balanced")
