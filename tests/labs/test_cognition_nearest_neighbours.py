"""k nearest neighbours: labkit's `nearest` votes as scikit-learn's KNeighborsClassifier does,
the lab's points are the plant corner's labelled readings, and the comparison check."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.neighbors import KNeighborsClassifier

from labkit.models.decision_tree import read_rows
from labkit.projects.bindings import nearest
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.expr import parse
from tests.unit.projects.test_projects_vocabulary import make_log

COGNITION = Path(PACKAGE_LABS) / "cognition"


def _points() -> list[list[float]]:
    rows, labels = read_rows(COGNITION / "plant_corner" / "assets" / "readings.csv",
                             ("soil", "light"))
    return [[r["soil"], r["light"], 1 if lab == "water" else 0] for r, lab in zip(rows, labels,
                                                                                  strict=True)]


@pytest.mark.parametrize("k", [1, 3, 5])
def test_nearest_votes_like_scikit_learn(k: int) -> None:
    points = _points()
    model = KNeighborsClassifier(n_neighbors=k).fit([p[:2] for p in points],
                                                    [p[2] for p in points])
    rng = np.random.default_rng(k)
    grid = rng.uniform(0, 1, (500, 2))
    ours = nearest(points, k, iter(grid[:, 0]), iter(grid[:, 1]))
    assert [next(ours) for _ in range(len(grid))] == list(model.predict(grid))


def test_the_labs_points_are_the_labelled_readings() -> None:
    lab = yaml.safe_load((COGNITION / "nearest_neighbours" / "lab.yaml").read_text("utf-8"))
    call = parse(lab["bindings"]["led.source"])
    assert call.func_name == "nearest" and call.args[0].value == _points()
    assert call.args[1].value == 3


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
