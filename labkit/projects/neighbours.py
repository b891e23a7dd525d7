"""k nearest neighbours a class can see and change: the points, k, the live reading's vote.

A lab declares it among what it uses, over readings it already has:

    uses:
      soil: {device: soil}
      light: {device: light}
      knn: {neighbours: [soil, light], k: 3, labels: [0, 1], points: [[0.34, 0.19, 0], …],
          compare: "branch(soil, 0.325, branch(light, 0.335, 0, 1), 0)"}
    bindings:
      led.source: knn.vote

`compare` is another learner over the same readings (the plant corner's decision tree): the
page draws its boundary over the k-NN regions, so straight and curved boundaries are seen
side by side.

Each run starts from the lab's points and keeps its own copy: a student adds a labelled point
where the sensors read now ("press a label button"), removes one, or changes k (1, 3, 5 or
7), and the bound output follows the new vote on the next tick. Every change is logged, and
`points_csv()` is what the run keeps in the portfolio. The vote is scikit-learn's
KNeighborsClassifier's (Euclidean distance, uniform weights, a tied vote goes to the smallest
label) — tests/unit/projects/test_neighbours.py compares the two.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

KS = (1, 3, 5, 7)
MAX_POINTS = 200
GRID = 24          # decision regions: cells per axis of the page's plot


def vote(xs: Sequence[Sequence[float]], outs: Sequence[Any], k: int,
         query: Sequence[float]) -> tuple[Any, list[int]]:
    """The label most common among the `k` examples nearest `query`, and their indices
    (nearest first). A tied vote goes to the smallest label, as in scikit-learn."""
    if not xs:
        return None, []
    k = max(1, min(int(k), len(xs)))
    order = sorted(range(len(xs)), key=lambda i: sum((a - float(b)) ** 2
                                                     for a, b in zip(xs[i], query, strict=True)))
    near = order[:k]
    votes: dict[Any, int] = {}
    for i in near:
        votes[outs[i]] = votes.get(outs[i], 0) + 1
    best = max(votes.values())
    return min(o for o, n in votes.items() if n == best), near


class _At:
    """A reading held at a point of the plot (for evaluating `compare` there)."""

    def __init__(self) -> None:
        self.value: float = 0.0

    @property
    def values(self) -> Any:
        while True:
            yield self.value


def comparison(expression: str, features: Sequence[str]) -> Callable[[Sequence[float]], Any]:
    """`expression` (a lab expression over the features, e.g. a `branch` tree) as a function
    of a point: the plot asks it at every cell."""
    from labkit.projects.bindings import Scope, reader

    at = {f: _At() for f in features}
    read = reader(expression, Scope(dict(at), None))

    def answer(point: Sequence[float]) -> Any:
        for holder, v in zip(at.values(), point, strict=True):
            holder.value = float(v)
        return read()
    return answer


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class Neighbours:
    """One run's labelled points and k over the lab's `features` (objects with `.value`)."""

    def __init__(self, name: str, features: dict[str, Any], points: Sequence[Sequence[Any]],
                 *, k: int = 3, labels: Sequence[Any] = (0, 1),
                 compare: Callable[[Sequence[float]], Any] | None = None) -> None:
        """`compare`: another learner's answer at a point (the decision tree of the lab),
        drawn on the plot as its boundary."""
        self.name = name
        self.compare = compare
        self.features = dict(features)
        self.labels = list(labels)
        self.points: list[tuple[tuple[float, ...], Any]] = []
        for p in points:
            *xs, label = p
            self.points.append((tuple(float(v) for v in xs), label))
        self.k = self.check_k(k)
        self.start_points = list(self.points)

    # -- changing it --------------------------------------------------------------------------
    @staticmethod
    def check_k(k: Any) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, float)) or int(k) != k or k not in KS:
            raise LabkitError(_("k must be 1, 3, 5 or 7, not %(k)s.", k=str(k)[:20]),
                              code="bad_input", fix=_("Pick k from the buttons."))
        return int(k)

    def set_k(self, k: Any) -> int:
        self.k = self.check_k(k)
        return self.k

    def check_label(self, label: Any) -> Any:
        if isinstance(label, bool) or label not in self.labels:
            raise LabkitError(_("%(label)s is not one of this lab's labels.",
                                label=str(label)[:20]),
                              code="bad_input", fix=_("Press one of the label buttons."))
        return label

    def add(self, label: Any) -> tuple[float, ...]:
        """Label the reading the sensors give now; returns the new point's features."""
        label = self.check_label(label)
        if len(self.points) >= MAX_POINTS:
            raise LabkitError(_("There are already %(n)s points.", n=MAX_POINTS),
                              code="bad_input", fix=_("Remove some points first."))
        here = self.reading()
        if here is None:
            raise LabkitError(_("The sensors give no reading yet."), code="no_reading",
                              fix=_("Wait a moment and try again."))
        self.points.append((here, label))
        return here

    def remove(self, index: Any) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not \
                0 <= index < len(self.points):
            raise LabkitError(_("There is no such point."), code="bad_input",
                              fix=_("Reload the page and try again."))
        del self.points[index]

    def clear(self) -> None:
        """Start from no points at all: the class measures and labels its own."""
        self.points = []

    def restore(self) -> None:
        """The lab's own starting points again."""
        self.points = list(self.start_points)

    # -- reading it ---------------------------------------------------------------------------
    def reading(self) -> tuple[float, ...] | None:
        values = tuple(_number(getattr(f, "value", None)) for f in self.features.values())
        return None if any(v is None for v in values) else values  # type: ignore[return-value]

    def decide(self, query: Sequence[float]) -> tuple[Any, list[int]]:
        points = list(self.points)   # one copy: the page may add a point while the lab ticks
        return vote([p for p, _l in points], [lab for _p, lab in points], self.k, query)

    @property
    def vote(self) -> Any:
        """The label the k nearest points give the reading now (None without one)."""
        here = self.reading()
        return None if here is None else self.decide(here)[0]

    @property
    def value(self) -> Any:
        return self.vote

    def live(self) -> dict[str, Any]:
        """The moving point: where the reading is, its k nearest points, their vote."""
        here = self.reading()
        if here is None:
            return {"reading": None, "nearest": [], "vote": None, "k": self.k}
        label, near = self.decide(here)
        return {"reading": [round(v, 3) for v in here], "nearest": near, "vote": label,
                "k": self.k}

    def regions(self, n: int = GRID) -> list[list[Any]]:
        """The vote at the centre of each cell of an n × n grid over 0–1 × 0–1 (two
        features only): row 0 is the bottom of the plot."""
        if len(self.features) != 2 or not self.points:
            return []
        return [[self.decide(((i + 0.5) / n, (j + 0.5) / n))[0] for i in range(n)]
                for j in range(n)]

    def compared(self, n: int = GRID) -> list[list[Any]]:
        """The other learner's answer at each cell's centre (as `regions`), [] without one."""
        if self.compare is None or len(self.features) != 2:
            return []
        return [[self.compare(((i + 0.5) / n, (j + 0.5) / n)) for i in range(n)]
                for j in range(n)]

    def state(self) -> dict[str, Any]:
        return {"name": self.name, "features": list(self.features), "labels": self.labels,
                "k": self.k, "ks": list(KS),
                "points": [[*[round(v, 3) for v in p], lab] for p, lab in self.points],
                "regions": self.regions(), "compare": self.compared(), "live": self.live()}

    def points_csv(self) -> str:
        head = ",".join([*self.features, "label"])
        rows = [",".join([*(f"{v:.3f}" for v in p), str(lab)]) for p, lab in self.points]
        return "\n".join([head, *rows]) + "\n"
