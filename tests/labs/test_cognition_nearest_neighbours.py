"""k nearest neighbours: labkit's vote (the `nearest` helper and the lab's live `Neighbours`,
k and points changed by the class) is scikit-learn's KNeighborsClassifier's, the lab's
starting points are the plant corner's labelled readings, bad changes are refused, and the
lab's checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.neighbors import KNeighborsClassifier

from labkit.models.decision_tree import read_rows
from labkit.errors import LabkitError
from labkit.projects.bindings import nearest
from labkit.projects.neighbours import Neighbours, comparison
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.expr import parse
from tests.unit.projects.test_projects_vocabulary import make_log

COGNITION = Path(PACKAGE_LABS) / "cognition"


def _points() -> list[list[float]]:
    rows, labels = read_rows(COGNITION / "plant_corner" / "assets" / "readings.csv",
                             ("soil", "light"))
    return [[r["soil"], r["light"], 1 if lab == "water" else 0] for r, lab in zip(rows, labels,
                                                                                  strict=True)]


class Reading:
    """A sensor the test sets by hand (the lab reads `.value`)."""

    def __init__(self, value: float | None = None) -> None:
        self.value = value


@pytest.mark.parametrize("k", [1, 3, 5])
def test_nearest_votes_like_scikit_learn(k: int) -> None:
    points = _points()
    model = KNeighborsClassifier(n_neighbors=k).fit([p[:2] for p in points],
                                                    [p[2] for p in points])
    rng = np.random.default_rng(k)
    grid = rng.uniform(0, 1, (500, 2))
    ours = nearest(points, k, iter(grid[:, 0]), iter(grid[:, 1]))
    assert [next(ours) for _ in range(len(grid))] == list(model.predict(grid))


def test_the_live_vote_is_scikit_learns_for_every_k_and_the_classes_own_points() -> None:
    soil, light = Reading(), Reading()
    knn = Neighbours("knn", {"soil": soil, "light": light}, _points(), k=3)
    rng = np.random.default_rng(7)
    for x, y in rng.uniform(0, 1, (12, 2)).tolist():
        label = int(x < 0.4 and y > 0.45)    # wet enough and bright: water
        soil.value, light.value = x, y
        knn.add(label)                       # the class labels the reading now
    assert len(knn.points) == 42
    xs = [p for p, _label in knn.points]
    ys = [label for _p, label in knn.points]
    queries = rng.uniform(0, 1, (300, 2))
    for k in (1, 3, 5, 7):
        knn.set_k(k)
        model = KNeighborsClassifier(n_neighbors=k).fit(xs, ys)
        ours = []
        for x, y in queries:
            soil.value, light.value = float(x), float(y)
            ours.append(knn.vote)
        assert ours == list(model.predict(queries)), f"k = {k}"
    # the plot's regions are the same vote at each cell's centre
    grid = knn.regions(8)
    centre = [[(i + 0.5) / 8, (j + 0.5) / 8] for j in range(8) for i in range(8)]
    assert [v for row in grid for v in row] == list(model.predict(centre))


def test_the_decision_tree_is_drawn_from_the_labs_own_expression() -> None:
    lab = yaml.safe_load((COGNITION / "nearest_neighbours" / "lab.yaml").read_text("utf-8"))
    use = lab["uses"]["knn"]
    assert use["compare"] == lab["bindings"]["pump.source"]     # the pump's tree, not a copy
    knn = Neighbours("knn", {"soil": Reading(), "light": Reading()}, _points(),
                     compare=comparison(use["compare"], use["neighbours"]))
    grid = knn.compared(10)
    for j, row in enumerate(grid):
        for i, answer in enumerate(row):
            soil, light = (i + 0.5) / 10, (j + 0.5) / 10
            assert answer == (1 if soil <= 0.325 and light > 0.335 else 0), (soil, light)


def test_bad_changes_are_refused_and_change_nothing() -> None:
    soil, light = Reading(0.5), Reading()
    knn = Neighbours("knn", {"soil": soil, "light": light}, _points(), k=3)
    for bad in (2, 0, 9, "3", True, 3.5, None):
        with pytest.raises(LabkitError, match="k must be 1, 3, 5 or 7"):
            knn.set_k(bad)
    assert knn.k == 3
    with pytest.raises(LabkitError, match="no reading"):
        knn.add(1)                           # the light sensor gives nothing yet
    light.value = 0.4
    for bad in (2, "water", True, None):
        with pytest.raises(LabkitError, match="labels"):
            knn.add(bad)
    for bad in (-1, 30, "0", True):
        with pytest.raises(LabkitError, match="no such point"):
            knn.remove(bad)
    assert len(knn.points) == 30
    knn.clear()
    assert knn.vote is None and knn.regions() == []   # no points: no vote, not a guess
    knn.restore()
    assert len(knn.points) == 30 and knn.vote in (0, 1)
    assert knn.points_csv().splitlines()[0] == "soil,light,label"


def test_the_labs_points_are_the_labelled_readings() -> None:
    lab = yaml.safe_load((COGNITION / "nearest_neighbours" / "lab.yaml").read_text("utf-8"))
    knn = lab["uses"]["knn"]
    assert knn["neighbours"] == ["soil", "light"] and knn["points"] == _points()
    assert knn["k"] == 3 and lab["bindings"]["led.source"] == "knn.vote"
    assert parse(lab["bindings"]["pump.source"]).func_name == "branch"


def test_bad_points_are_refused() -> None:
    with pytest.raises(ValueError, match="2 feature"):
        next(nearest([[0.1, 1]], 1, iter([0.1]), iter([0.2])))


def test_disagreement_needs_the_led_on_while_the_pump_is_off() -> None:
    spec = importlib.util.spec_from_file_location(
        "nn_checks", COGNITION / "nearest_neighbours" / "checks.py")
    checks = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(checks)  # type: ignore[union-attr]
    agree = make_log(10.0, led=[(1.0, 1), (3.0, 0)], pump=[(1.0, 1), (3.0, 0)])
    assert not checks.knn_and_tree_disagreed(agree).passed
    differ = make_log(10.0, led=[(1.0, 1), (3.0, 0)], pump=[(0.0, 0)])
    assert checks.knn_and_tree_disagreed(differ).passed


def test_own_points_and_other_ks_are_counted_from_the_log() -> None:
    spec = importlib.util.spec_from_file_location(
        "nn_checks2", COGNITION / "nearest_neighbours" / "checks.py")
    checks = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(checks)  # type: ignore[union-attr]
    added = [{"action": "add", "label": 1}] * 3 + [{"action": "add", "label": 0}]
    one_sided = make_log(10.0, knn=[(1.0 + i, v) for i, v in enumerate(added)])
    assert checks.own_points(one_sided).count == 3 and not checks.own_points(one_sided).passed
    both = make_log(10.0, knn=[(1.0 + i, v) for i, v in
                               enumerate(added + [{"action": "add", "label": 0}])])
    assert checks.own_points(both).passed
    ks = make_log(10.0, knn=[(1.0, {"action": "k", "k": 3}), (2.0, {"action": "k", "k": 1}),
                             (3.0, {"action": "k", "k": 1})])
    assert not checks.tried_k(ks).passed
    ks = make_log(10.0, knn=[(1.0, {"action": "k", "k": 1}), (2.0, {"action": "k", "k": 7})])
    assert checks.tried_k(ks).passed
