"""A small decision tree a class can read: learned with scikit-learn from labelled readings,
kept as plain nodes so it can be drawn as text and run by the lab runner as one nested
`branch(…)` expression (labkit/projects/bindings.py) — no scikit-learn at run time.

    tree = DecisionTree.fit(rows, labels, features=("soil", "light"), max_depth=2)
    tree.predict({"soil": 0.2, "light": 0.7})      # "water"
    tree.lines()                                   # the drawing, one line per node
    tree.expression({"water": 1, "wait": 0})       # "branch(soil, 0.3, …, 0)"
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence, Union


@dataclass(frozen=True)
class Leaf:
    label: str


@dataclass(frozen=True)
class Split:
    """`feature` ≤ `threshold` goes to `low`, otherwise to `high` (scikit-learn's rule)."""
    feature: str
    threshold: float
    low: "Tree"
    high: "Tree"


Tree = Union[Leaf, Split]


def read_rows(path: str | Path, features: Sequence[str], label: str = "label"
              ) -> tuple[list[dict[str, float]], list[str]]:
    """A CSV with a header (the features and `label`) → rows and labels."""
    rows, labels = [], []
    with open(path, newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            rows.append({f: float(rec[f]) for f in features})
            labels.append(rec[label].strip())
    return rows, labels


class DecisionTree:
    def __init__(self, root: Tree, features: tuple[str, ...]) -> None:
        self.root = root
        self.features = features

    @classmethod
    def fit(cls, rows: Sequence[Mapping[str, float]], labels: Sequence[str], *,
            features: Sequence[str], max_depth: int = 3, min_samples_leaf: int = 1
            ) -> "DecisionTree":
        """Learn the tree (CART, Gini) with scikit-learn; thresholds rounded to 3 decimals
        for reading (the split still falls between the same two training values)."""
        from sklearn.tree import DecisionTreeClassifier

        if not rows or len(rows) != len(labels):
            raise ValueError("need one label per row, and at least one row")
        features = tuple(features)
        x = [[float(r[f]) for f in features] for r in rows]
        model = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                       random_state=0).fit(x, list(labels))
        t = model.tree_
        classes = [str(c) for c in model.classes_]

        def node(i: int) -> Tree:
            if t.children_left[i] == -1:
                return Leaf(classes[int(t.value[i][0].argmax())])
            low, high = node(t.children_left[i]), node(t.children_right[i])
            if low == high:
                return low
            return Split(features[t.feature[i]], round(float(t.threshold[i]), 3), low, high)

        return cls(node(0), features)

    def predict(self, values: Mapping[str, float]) -> str:
        n = self.root
        while isinstance(n, Split):
            n = n.low if float(values[n.feature]) <= n.threshold else n.high
        return n.label

    def lines(self) -> list[str]:
        """The tree drawn as indented text, e.g. `soil ≤ 0.3:` / `  light ≤ 0.5: wait`."""
        out: list[str] = []

        def walk(n: Tree, depth: int) -> None:
            pad = "  " * depth
            if isinstance(n, Leaf):
                out.append(f"{pad}→ {n.label}")
                return
            out.append(f"{pad}{n.feature} ≤ {n.threshold:g}:")
            walk(n.low, depth + 1)
            out.append(f"{pad}{n.feature} > {n.threshold:g}:")
            walk(n.high, depth + 1)

        walk(self.root, 0)
        return out

    def expression(self, outputs: Mapping[str, object],
                   names: Mapping[str, str] | None = None) -> str:
        """The tree as a lab.yaml expression of nested `branch(signal, threshold, low, high)`;
        `outputs` maps each label to what the output gets, `names` a feature to its signal."""
        names = names or {}

        def expr(n: Tree) -> str:
            if isinstance(n, Leaf):
                return repr(outputs[n.label])
            return (f"branch({names.get(n.feature, n.feature)}, {n.threshold:g}, "
                    f"{expr(n.low)}, {expr(n.high)})")

        return expr(self.root)
