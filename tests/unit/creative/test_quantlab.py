"""The quantisation lab's table: every figure is measured in this test, on this machine."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from labkit.learn import quantlab
from labkit.learn.synthetic import pose_landmarks
from labkit.models.trainable import OnnxClassifier


def _poses(n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(n):
        for pose in ("stand", "arms_up", "t_pose"):
            X.append(pose_landmarks(pose, rng).ravel())
            y.append(pose)
    return np.asarray(X, np.float32), y


@pytest.fixture(scope="module")
def experiment() -> tuple[quantlab.Comparison, list, np.ndarray, list[str]]:
    X, y = _poses(24)
    events: list = []
    result = quantlab.run_experiment(X, y, runs=20,
                                     publish=lambda topic, data: events.append((topic, data)))
    return result, events, X, y


def test_table_values_are_measured(experiment, tmp_path) -> None:
    result, events, X, y = experiment
    f, q = result.float32, result.int8
    # latency: the median of the runs timed just now, every run positive
    for v in (f, q):
        assert len(v.latency_runs) == 20 and min(v.latency_runs) > 0
        assert v.latency_ms == statistics.median(v.latency_runs)
    # size: int8 really is smaller on an MLP (weights 8 instead of 32 bits) but not 1/4
    assert 0.15 < q.bytes / f.bytes < 0.6
    # accuracy: re-count the held-out answers of a freshly exported held-out model
    clf = result.classifier
    held = quantlab.dataclasses.replace(clf, pipeline=clf.held_out_pipeline)
    model = OnnxClassifier(held.to_onnx(), clf.classes)
    test = clf.test_indices
    pred = model.predict(X[test])
    assert f.n_test == len(test) >= quantlab.MIN_TEST_SAMPLES
    assert f.correct == sum(p == y[i] for p, i in zip(pred, test, strict=True))
    assert f.bytes == len(held.to_onnx(doc="labkit quantisation lab, float32"))
    # the bus event carries the same measured figures
    (topic, data), = events
    assert topic == quantlab.TOPIC
    assert data["float_bytes"] == f.bytes and data["int8_bytes"] == q.bytes
    assert data["size_ratio"] == round(q.bytes / f.bytes, 4)
    assert data["float_accuracy"] == f.accuracy and data["n_test"] == f.n_test


def test_too_few_held_out_samples_give_no_accuracy() -> None:
    v = quantlab.Variant("int8", 100, 0.1, [0.1], correct=3, n_test=3)
    assert v.accuracy is None and v.to_dict()["accuracy"] is None


def test_chart_shows_the_measured_values(experiment) -> None:
    result = experiment[0]
    labels = {"size": "大小", "latency": "时间", "accuracy": "准确率", "unmeasured": "样本太少"}
    svg = quantlab.chart_svg(result, labels)
    assert svg.startswith("<svg") and svg.count("<rect") == 6
    assert f"{result.float32.bytes / 1024:.1f} KB" in svg
    assert f"{result.int8.latency_ms:.3f} ms" in svg
    result.int8.n_test = result.float32.n_test = 2
    assert "样本太少" in quantlab.chart_svg(result, labels)
