"""The kit's one small-classifier trainer: metrics, guards and an ONNX export that agrees."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from labkit.errors import LabkitError
from labkit.models.trainable import (KINDS, ONNX_INPUT, ONNX_PROBABILITIES, OnnxClassifier,
                                     train_classifier)

NAMES = ["红灯", "green", "蓝色"]


def blobs(n_per_class: int = 40, dim: int = 12, spread: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (len(NAMES), dim))
    X = np.concatenate([rng.normal(c, spread, (n_per_class, dim)) for c in centres])
    y = [name for name in NAMES for _ in range(n_per_class)]
    return X, y


@pytest.mark.parametrize("kind", KINDS)
def test_separable_classes_are_learnt_and_onnx_agrees(kind: str) -> None:
    X, y = blobs()
    clf = train_classifier(X, y, kind=kind, seed=1)
    assert clf.classes == NAMES
    assert clf.metrics["accuracy"] >= 0.95
    assert clf.metrics["n_test"] + clf.metrics["n_train"] == len(y)
    assert clf.confusion.shape == (3, 3) and clf.confusion.sum() == clf.metrics["n_test"]
    # stratified: every class is in the held-out part
    assert (clf.confusion.sum(axis=1) > 0).all()
    proba = clf.predict_proba(X[clf.test_indices])
    assert proba.shape == (len(clf.test_indices), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)

    blob = clf.to_onnx()
    model = onnx.load_from_string(blob)
    assert [i.name for i in model.graph.input] == [ONNX_INPUT]
    assert ONNX_PROBABILITIES in [o.name for o in model.graph.output]
    run = OnnxClassifier(blob)  # classes come from the graph's metadata
    assert run.classes == NAMES
    onnx_proba = run.predict_proba(X[clf.test_indices])
    assert onnx_proba.dtype == np.float64
    agree = (onnx_proba.argmax(1) == proba.argmax(1)).mean()
    assert agree >= 0.995
    np.testing.assert_allclose(onnx_proba, proba, atol=1e-4)


def test_hard_problem_reports_mistakes_honestly() -> None:
    X, y = blobs(spread=6.0, seed=3)
    clf = train_classifier(X, y, kind="logistic")
    assert clf.metrics["accuracy"] < 1.0
    wrong = clf.misclassified
    assert len(wrong) == clf.metrics["n_test"] - int(np.trace(clf.confusion))
    for item in wrong:
        assert item["true"] != item["predicted"]
        assert y[item["index"]] == item["true"]
        assert item["index"] in set(clf.test_indices.tolist())
    # the mistakes are those of the model that never saw the held-out samples
    held_out = clf.held_out_pipeline.predict(X[[wrong[0]["index"]]])[0]
    assert clf.classes[held_out] == wrong[0]["predicted"]


def test_split_is_reproducible_and_seeded() -> None:
    X, y = blobs()
    a = train_classifier(X, y, seed=5)
    b = train_classifier(X, y, seed=5)
    c = train_classifier(X, y, seed=6)
    assert a.test_indices.tolist() == b.test_indices.tolist()
    assert a.test_indices.tolist() != c.test_indices.tolist()


def test_model_card_is_json_and_complete() -> None:
    X, y = blobs(n_per_class=10)
    clf = train_classifier(X, y, kind="knn")
    card = clf.model_card(name="我的分类器")
    text = json.dumps(card, ensure_ascii=False)
    back = json.loads(text)
    assert back["classes"] == NAMES
    assert back["sample_counts"] == {n: 10 for n in NAMES}
    assert back["name"] == "我的分类器"
    assert 0.0 <= back["accuracy"] <= 1.0
    assert back["trained_at"][:2] == "20"


def test_progress_is_reported_in_order() -> None:
    X, y = blobs(n_per_class=8)
    seen = []
    train_classifier(X, y, kind="mlp", progress=lambda stage, frac: seen.append((stage, frac)))
    assert [s for s, _ in seen] == ["split", "fit", "evaluate", "final", "done"]
    assert [f for _, f in seen] == sorted(f for _, f in seen)


def test_one_class_only_is_refused() -> None:
    X, y = blobs()
    with pytest.raises(LabkitError) as err:
        train_classifier(X[:40], y[:40])
    assert err.value.code == "too_few_classes"


@pytest.mark.parametrize("n_small", [1, 2])
def test_class_with_too_few_samples_is_refused(n_small: int) -> None:
    X, y = blobs()
    X2 = np.concatenate([X[:80], X[80:80 + n_small]])
    y2 = y[:80] + y[80:80 + n_small]
    with pytest.raises(LabkitError) as err:
        train_classifier(X2, y2)
    assert err.value.code == "too_few_samples"
    assert NAMES[2] in err.value.message


def test_three_samples_per_class_is_the_minimum_that_trains() -> None:
    X, y = blobs(n_per_class=3)
    clf = train_classifier(X, y, kind="knn")
    assert clf.metrics["n_test"] == 3


@pytest.mark.parametrize("bad", ["nan", "shape", "text"])
def test_broken_features_are_refused(bad: str) -> None:
    X, y = blobs(n_per_class=5)
    if bad == "nan":
        X[3, 2] = np.nan
    elif bad == "shape":
        X = X[:, :, None]
    else:
        X = [["a"] * 3 for _ in y]
    with pytest.raises(LabkitError) as err:
        train_classifier(X, y)
    assert err.value.code == "bad_features"


def test_unknown_kind_and_wrong_width_at_prediction() -> None:
    X, y = blobs(n_per_class=5)
    with pytest.raises(LabkitError):
        train_classifier(X, y, kind="forest")
    clf = train_classifier(X, y)
    with pytest.raises(LabkitError):
        clf.predict_proba(np.zeros((1, 5)))
    with pytest.raises(LabkitError):
        OnnxClassifier(clf.to_onnx()).predict_proba(np.zeros((1, 5)))


def test_onnx_with_wrong_labels_or_garbage_is_refused() -> None:
    X, y = blobs(n_per_class=5)
    blob = train_classifier(X, y).to_onnx()
    with pytest.raises(LabkitError):
        OnnxClassifier(blob, classes=["a", "b"])
    with pytest.raises(LabkitError):
        OnnxClassifier(b"not a model")
