"""The plant corner's decision tree: it decides as scikit-learn's tree does on the same data,
the pump's binding in lab.yaml is exactly that tree, and `branch` evaluates like the tree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.tree import DecisionTreeClassifier

from labkit.models.decision_tree import DecisionTree, Leaf, Split, read_rows
from labkit.projects.bindings import branch
from labkit.projects.discovery import PACKAGE_LABS

LAB = Path(PACKAGE_LABS) / "cognition" / "plant_corner"
FEATURES = ("soil", "light", "temperature")


@pytest.fixture(scope="module")
def data() -> tuple[list[dict[str, float]], list[str]]:
    return read_rows(LAB / "assets" / "readings.csv", FEATURES)


def test_the_tree_equals_scikit_learns_on_the_same_data(data) -> None:  # type: ignore[no-untyped-def]
    rows, labels = data
    ours = DecisionTree.fit(rows, labels, features=FEATURES, max_depth=2)
    theirs = DecisionTreeClassifier(max_depth=2, random_state=0).fit(
        [[r[f] for f in FEATURES] for r in rows], labels)
    rng = np.random.default_rng(1)
    grid = [{"soil": s, "light": li, "temperature": t}
            for s, li, t in zip(rng.uniform(0, 1, 2000), rng.uniform(0, 1, 2000),
                                rng.uniform(10, 35, 2000), strict=True)]
    grid += rows
    expected = theirs.predict([[g[f] for f in FEATURES] for g in grid])
    assert [ours.predict(g) for g in grid] == list(expected)
    # the same questions: scikit-learn's root split and ours
    t = theirs.tree_
    assert isinstance(ours.root, Split)
    assert ours.root.feature == FEATURES[t.feature[0]]
    assert ours.root.threshold == pytest.approx(t.threshold[0], abs=5e-4)
    assert "temperature" not in "\n".join(ours.lines())    # the reflection question's premise


def test_the_pump_follows_the_tree_learned_from_the_labels(data) -> None:  # type: ignore[no-untyped-def]
    rows, labels = data
    tree = DecisionTree.fit(rows, labels, features=FEATURES, max_depth=2)
    lab = yaml.safe_load((LAB / "lab.yaml").read_text(encoding="utf-8"))
    expr = tree.expression({"water": 1, "wait": 0})
    assert lab["bindings"]["pump.source"] == expr
    assert lab["signals"]["water"]["value"] == expr


def test_branch_is_one_tree_node_and_nests() -> None:
    soil = iter([0.1, 0.1, 0.9, 0.3])
    light = iter([0.9, 0.1, 0.9, 0.5])
    out = branch(soil, 0.325, branch(light, 0.335, 0, 1), 0)
    assert [next(out) for _ in range(4)] == [1, 0, 0, 1]


def test_drawing_and_bad_input() -> None:
    tree = DecisionTree(Split("soil", 0.3, Leaf("water"), Leaf("wait")), ("soil",))
    assert tree.lines() == ["soil ≤ 0.3:", "  → water", "soil > 0.3:", "  → wait"]
    assert tree.expression({"water": 1, "wait": 0}) == "branch(soil, 0.3, 1, 0)"
    with pytest.raises(ValueError, match="one label per row"):
        DecisionTree.fit([{"soil": 0.1}], [], features=("soil",))
