"""The one small-classifier implementation the whole kit trains with.

Teachable image/pose/hand/sensor models (`labkit.learn`) and the teachable Chinese command
words (`labkit.audio_ai`) all turn their samples into fixed-length feature vectors and call
`train_classifier`. Keeping one implementation means one set of safeguards (too few classes or
samples, NaNs, a stratified held-out split), one notion of metrics, and one ONNX export that the
rest of the kit (live prediction, export/import, int8) already knows how to run.

    from labkit.models.trainable import train_classifier
    clf = train_classifier(X, y, kind="logistic")     # y: class names (Chinese is fine)
    clf.metrics["accuracy"], clf.confusion, clf.misclassified   # held-out figures
    clf.predict_proba(X_new)                          # (n, len(clf.classes)) float
    onnx_bytes = clf.to_onnx()                        # input "features" float32 [N, D]
    card = clf.model_card(name="My classifier")

Stable API (other areas depend on it):

* `train_classifier(X, y, kind='logistic'|'knn'|'mlp', test_size=0.25, seed=0,
  progress=None, *, groups=None, augment=None) -> TrainedClassifier` — figures measured on
  held-out recordings (labkit.models.evaluation), the kept model fitted on every sample.
* `TrainedClassifier.classes` (list[str], sorted by first appearance in `y`),
  `.predict_proba(X)`, `.predict(X)`, `.metrics` (dict), `.confusion` (ndarray, rows = true
  class, columns = predicted class, both in `classes` order), `.misclassified` (list of dicts),
  `.to_onnx() -> bytes`, `.model_card(**extra) -> dict`.
* `OnnxClassifier(onnx_bytes, classes)` runs an exported model with the same
  `predict_proba`/`predict` interface (what live prediction uses after a restart or an import).

The ONNX graph (skl2onnx, ZipMap off) has one input `features` (float32 [N, D]) and two outputs:
`label` (int64 [N], an index into `classes`) and `probabilities` (float32 [N, C], columns in
`classes` order, calibrated by the held-out skill). Classes are encoded as indices so Chinese
names never have to live inside the graph; they travel beside it (labels JSON) and in the
graph's metadata (`labkit.classes`).
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

KINDS = ("logistic", "knn", "mlp")
MIN_CLASSES = 2
MIN_SAMPLES_PER_CLASS = 3
MAX_ROWS = 50_000
MAX_FEATURES = 20_000
ONNX_INPUT = "features"
ONNX_LABEL = "label"
ONNX_PROBABILITIES = "probabilities"
ONNX_OPSET = 13
CLASSES_METADATA_KEY = "labkit.classes"

Progress = Callable[[str, float], None]


def _check_inputs(X: Any, y: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise LabkitError(_("The features are not numbers."), code="bad_features",
                          fix=_("Pass one row of numbers per sample.")) from None
    labels = [str(v) for v in y]
    if arr.ndim != 2 or arr.shape[0] != len(labels) or arr.shape[1] == 0:
        raise LabkitError(
            _("The features must be a table with one row per sample (got shape %(shape)s for "
              "%(n)s labels).", shape=str(tuple(arr.shape)), n=len(labels)),
            code="bad_features", fix=_("Pass one row of numbers per sample."))
    if arr.shape[0] > MAX_ROWS or arr.shape[1] > MAX_FEATURES:
        raise LabkitError(
            _("Too much data to train on the kit (%(rows)s samples × %(cols)s features).",
              rows=arr.shape[0], cols=arr.shape[1]),
            code="too_many_samples", fix=_("Use fewer samples."))
    if not np.all(np.isfinite(arr)):
        raise LabkitError(_("Some samples have broken features (not a number)."),
                          code="bad_features", fix=_("Delete the broken samples and try again."))
    return arr.astype(np.float32).astype(np.float64), labels


def _class_order(labels: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for label in labels:
        seen.setdefault(label, None)
    return list(seen)


def check_class_counts(counts: dict[str, int]) -> None:
    """Raise a clear error unless there are ≥ 2 classes, each with enough samples.

    Shared by the dataset layer so the page can warn before features are even computed.
    """
    if len(counts) < MIN_CLASSES:
        raise LabkitError(_("A classifier needs at least two classes."),
                          code="too_few_classes",
                          fix=_("Add another class and record samples for it."))
    small = [name for name, n in counts.items() if n < MIN_SAMPLES_PER_CLASS]
    if small:
        raise LabkitError(
            _("These classes have fewer than %(n)s samples: %(names)s.",
              n=MIN_SAMPLES_PER_CLASS, names=", ".join(small)),
            code="too_few_samples",
            fix=_("Record more samples for each class (10 or more works best)."))


def _make_estimator(kind: str, n_train: int, n_classes: int, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "logistic":
        clf: Any = LogisticRegression(C=1.0, max_iter=2000)
    elif kind == "knn":
        # never more neighbours than the smallest class could supply on its own
        k = max(1, min(5, n_train // n_classes))
        clf = KNeighborsClassifier(n_neighbors=k)
    elif kind == "mlp":
        clf = MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=600,
                            random_state=seed)
    else:
        raise LabkitError(_("Unknown classifier kind %(kind)s.", kind=repr(kind)),
                          code="bad_kind", fix=_("Use logistic, knn or mlp."))
    return Pipeline([("scale", StandardScaler()), ("clf", clf)])


@dataclass
class TrainedClassifier:
    """A fitted scaler + classifier with its held-out evaluation.

    `metrics` holds plain JSON-able numbers; `confusion[i][j]` counts held-out samples of class
    `classes[i]` predicted as `classes[j]`; `misclassified` lists held-out samples the model got
    wrong as `{"index", "true", "predicted", "confidence"}` (`index` points into the `X`/`y`
    given to `train_classifier`, so the page can show the very sample).
    """

    kind: str
    classes: list[str]
    pipeline: Any
    n_features: int
    metrics: dict[str, Any]
    confusion: np.ndarray
    misclassified: list[dict[str, Any]]
    train_indices: np.ndarray
    test_indices: np.ndarray
    sample_counts: dict[str, int]
    #: held-out skill used to shrink live confidences (labkit.models.evaluation.calibrate)
    calibration: dict[str, Any] | None = None
    #: the model fitted on the training part only, which produced the held-out figures
    held_out_pipeline: Any = None
    trained_at: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc)
                            .isoformat(timespec="seconds"))

    def _prep(self, X: Any) -> np.ndarray:
        arr = np.asarray(X, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.n_features:
            raise LabkitError(
                _("The model expects %(d)s features per sample, got shape %(shape)s.",
                  d=self.n_features, shape=str(tuple(arr.shape))),
                code="bad_features", fix=_("Use the same feature extractor as in training."))
        return arr.astype(np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated class probabilities, shape (n, len(classes)), in `classes` order."""
        from labkit.models.evaluation import calibrate

        raw = np.asarray(self.pipeline.predict_proba(self._prep(X)), dtype=np.float64)
        return calibrate(raw, self.calibration)

    def predict(self, X: Any) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(X).argmax(axis=1)]

    def to_onnx(self, *, doc: str = "") -> bytes:
        """The scaler + classifier as one ONNX graph (see the module docstring for its I/O)."""
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType

        clf = self.pipeline.named_steps["clf"]
        onx = convert_sklearn(
            self.pipeline, name=f"labkit_{self.kind}_classifier",
            initial_types=[(ONNX_INPUT, FloatTensorType([None, self.n_features]))],
            options={id(clf): {"zipmap": False}}, target_opset={"": ONNX_OPSET, "ai.onnx.ml": 1})
        _rename_outputs(onx)
        _append_calibration(onx, self.calibration, len(self.classes))
        _dedupe_opsets(onx)
        onx.doc_string = doc or f"labkit teachable {self.kind} classifier"
        _set_metadata(onx, {CLASSES_METADATA_KEY: json.dumps(self.classes, ensure_ascii=False),
                            "labkit.kind": self.kind,
                            "labkit.accuracy": _accuracy_text(self.metrics["accuracy"]),
                            "labkit.calibration": json.dumps(self.calibration or {})})
        return onx.SerializeToString()

    def model_card(self, **extra: Any) -> dict[str, Any]:
        """What a teacher (or another kit) needs to know about this model, JSON-able."""
        import sklearn

        from labkit import __version__

        card: dict[str, Any] = {
            "format": "labkit-classifier/1",
            "classifier": self.kind,
            "classes": list(self.classes),
            "sample_counts": dict(self.sample_counts),
            "n_features": self.n_features,
            # held-out figures (None: too few samples to measure); the model itself was then
            # trained on all `n_fit` rows
            "accuracy": (None if self.metrics["accuracy"] is None
                         else round(float(self.metrics["accuracy"]), 4)),
            "measured": bool(self.metrics.get("measured", True)),
            "n_train": int(self.metrics["n_train"]),
            "n_test": int(self.metrics["n_test"]),
            "n_fit": int(self.metrics.get("n_fit", self.metrics["n_train"])),
            "chance": self.metrics.get("chance"),
            "per_class": self.metrics.get("per_class", {}),
            "warnings": self.metrics.get("warnings", []),
            "calibration": self.calibration,
            "confusion": self.confusion.tolist(),
            "trained_at": self.trained_at,
            "onnx": {"input": ONNX_INPUT, "outputs": [ONNX_LABEL, ONNX_PROBABILITIES],
                     "opset": ONNX_OPSET},
            "software": {"labkit": __version__, "scikit-learn": sklearn.__version__},
        }
        card.update(extra)
        return card


def _rename_outputs(onx: Any) -> None:
    """skl2onnx names outputs `label`/`probabilities` already; make sure, whatever the model."""
    names = [o.name for o in onx.graph.output]
    wanted = {names[0]: ONNX_LABEL, names[1]: ONNX_PROBABILITIES}
    for old, new in wanted.items():
        if old == new:
            continue
        for node in onx.graph.node:
            node.output[:] = [new if o == old else o for o in node.output]
            node.input[:] = [new if i == old else i for i in node.input]
        for out in onx.graph.output:
            if out.name == old:
                out.name = new


def _accuracy_text(accuracy: float | None) -> str:
    return "not measured" if accuracy is None else f"{accuracy:.6f}"


def _append_calibration(onx: Any, calibration: dict[str, Any] | None, n_classes: int) -> None:
    """Make the graph's `probabilities` output the calibrated one (p·s + (1 − s)/C).

    The exported file then answers exactly what the page shows, on any kit; `label` is an
    argmax and the shrink keeps the ranking, so it needs no change.
    """
    from onnx import helper, numpy_helper

    s = float((calibration or {}).get("skill", 1.0))
    if s >= 1.0:
        return
    raw = ONNX_PROBABILITIES + "_raw"
    for node in onx.graph.node:
        node.output[:] = [raw if o == ONNX_PROBABILITIES else o for o in node.output]
        node.input[:] = [raw if i == ONNX_PROBABILITIES else i for i in node.input]
    scale = numpy_helper.from_array(np.array(s, np.float32), "calibration_skill")
    offset = numpy_helper.from_array(np.array((1.0 - s) / n_classes, np.float32),
                                     "calibration_offset")
    onx.graph.initializer.extend([scale, offset])
    onx.graph.node.extend([
        helper.make_node("Mul", [raw, "calibration_skill"], [raw + "_scaled"],
                         name="calibration_mul"),
        helper.make_node("Add", [raw + "_scaled", "calibration_offset"], [ONNX_PROBABILITIES],
                         name="calibration_add")])


def _dedupe_opsets(onx: Any) -> None:
    """skl2onnx may list the default domain twice; tools such as the quantiser reject that."""
    best: dict[str, int] = {}
    for op in onx.opset_import:
        best[op.domain] = max(best.get(op.domain, 0), op.version)
    del onx.opset_import[:]
    for domain, version in best.items():
        op = onx.opset_import.add()
        op.domain, op.version = domain, version


def _set_metadata(onx: Any, values: dict[str, str]) -> None:
    existing = {p.key: p for p in onx.metadata_props}
    for key, value in values.items():
        prop = existing.get(key) or onx.metadata_props.add()
        prop.key, prop.value = key, value


Augment = Callable[[np.ndarray], "tuple[Any, Sequence[Any]]"]


def _fit(kind: str, X: np.ndarray, y_idx: np.ndarray, n_classes: int, seed: int) -> Any:
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    pipeline = _make_estimator(kind, len(y_idx), n_classes, seed)
    with warnings.catch_warnings():
        # a small MLP on 20 samples may stop before "convergence"; held-out accuracy tells
        # the student what matters
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X, y_idx)
    return pipeline


def _with_augmented(arr: np.ndarray, y_idx: np.ndarray, rows: np.ndarray,
                    augment: Augment | None, classes: list[str]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The chosen rows plus the caller's augmented copies made from those rows only."""
    X, y = arr[rows], y_idx[rows]
    if augment is None or len(rows) == 0:
        return X, y
    extra_x, extra_y = augment(rows)
    extra_x = np.asarray(extra_x, dtype=np.float64)
    if extra_x.size == 0:
        return X, y
    extra_idx = np.array([classes.index(str(label)) for label in extra_y], dtype=np.int64)
    return np.concatenate([X, extra_x.reshape(len(extra_idx), -1)]), np.concatenate(
        [y, extra_idx])


def train_classifier(X: Any, y: Sequence[Any], kind: str = "logistic", test_size: float = 0.25,
                     seed: int = 0, progress: Progress | None = None, *,
                     groups: Sequence[Any] | None = None,
                     augment: Augment | None = None) -> TrainedClassifier:
    """Measure `kind` on held-out recordings, then fit the kept model on every sample.

    `groups` gives each sample its recording (or speaker/session) id: a group is held out
    whole (labkit.models.evaluation). `augment(rows)` returns extra (features, labels) made
    from the given sample rows only — it is called with the training rows for the held-out
    measurement and with all rows for the kept model, so no augmented copy of a test sample
    is ever trained on. `metrics["accuracy"]` is the held-out accuracy, or None when nothing
    could be held out (`metrics["measured"]` False).

    `y` may hold any labels (they are turned into strings). Raises `LabkitError` for one class
    only, a class with fewer than 3 samples, NaN/inf features or a bad shape — messages a
    student can act on. `progress(stage, fraction)` is called with stages "split", "fit",
    "evaluate", "final" (fitting the kept model on everything), "done".
    """
    from labkit.models.evaluation import calibrate, measure, split_by_group

    report = progress or (lambda stage, frac: None)
    if kind not in KINDS:
        raise LabkitError(_("Unknown classifier kind %(kind)s.", kind=repr(kind)),
                          code="bad_kind", fix=_("Use logistic, knn or mlp."))
    if not 0.05 <= test_size <= 0.5:
        raise LabkitError(_("The held-out share must be between 5% and 50%."),
                          code="bad_input", fix=_("Use a test share such as 0.25."))
    arr, labels = _check_inputs(X, y)
    classes = _class_order(labels)
    counts = {c: labels.count(c) for c in classes}
    check_class_counts(counts)
    y_idx = np.array([classes.index(lbl) for lbl in labels], dtype=np.int64)

    report("split", 0.05)
    split = split_by_group(y_idx, groups, len(classes), test_size, seed)
    train, test = split.train, split.test
    report("fit", 0.1)
    X_fit, y_fit = _with_augmented(arr, y_idx, train, augment, classes)
    held_out_model = _fit(kind, X_fit, y_fit, len(classes), seed)
    report("evaluate", 0.5)
    if len(test):
        proba = np.asarray(held_out_model.predict_proba(arr[test]))
    else:
        proba = np.zeros((0, len(classes)))
    truth = y_idx[test]
    evaluation = measure(truth, proba, classes, counts, split.unmeasured)
    proba = calibrate(proba, evaluation.calibration)
    pred = proba.argmax(axis=1) if len(test) else np.zeros(0, np.int64)
    wrong = [
        {"index": int(test[j]), "true": classes[truth[j]], "predicted": classes[pred[j]],
         "confidence": round(float(proba[j, pred[j]]), 4)}
        for j in np.flatnonzero(pred != truth)
    ]
    report("final", 0.6)
    X_all, y_all = _with_augmented(arr, y_idx, np.arange(len(y_idx)), augment, classes)
    pipeline = _fit(kind, X_all, y_all, len(classes), seed)
    metrics = {
        "accuracy": evaluation.accuracy,
        "measured": evaluation.measured,
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "n_fit": int(len(y_all)),
        "chance": round(evaluation.chance, 4),
        "per_class": evaluation.per_class,
        "warnings": evaluation.warnings,
        "calibration": evaluation.calibration,
    }
    result = TrainedClassifier(
        kind=kind, classes=classes, pipeline=pipeline, n_features=int(arr.shape[1]),
        metrics=metrics, confusion=evaluation.confusion, misclassified=wrong,
        train_indices=train, test_indices=test, sample_counts=counts,
        calibration=evaluation.calibration, held_out_pipeline=held_out_model)
    report("done", 1.0)
    return result


class OnnxClassifier:
    """An exported classifier run with ONNX Runtime: same `predict_proba`/`predict` API.

    Used for live prediction of a saved or imported model (no pickle anywhere: a model from
    another kit is only ever data run by ONNX Runtime).
    """

    def __init__(self, onnx_bytes: bytes, classes: Sequence[str] | None = None,
                 threads: int = 2) -> None:
        from labkit.models.runtime import onnx_session

        try:
            self.session = onnx_session(onnx_bytes, threads=threads)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise LabkitError(_("The model file is not a valid ONNX model."),
                              code="bad_model", fix=_("Export the model again.")) from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        if classes is None:
            try:
                classes = json.loads(meta[CLASSES_METADATA_KEY])
            except (KeyError, ValueError):
                raise LabkitError(_("The model file does not say which classes it has."),
                                  code="bad_model",
                                  fix=_("Import it with its labels file.")) from None
        self.classes = [str(c) for c in classes]
        inputs = self.session.get_inputs()
        outputs = {o.name: o for o in self.session.get_outputs()}
        if len(inputs) != 1 or ONNX_PROBABILITIES not in outputs:
            raise LabkitError(_("The model file is not a labkit classifier."),
                              code="bad_model", fix=_("Export the model again."))
        self.input_name = inputs[0].name
        shape = inputs[0].shape
        self.n_features = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
        n_out = outputs[ONNX_PROBABILITIES].shape
        if len(n_out) == 2 and isinstance(n_out[1], int) and n_out[1] != len(self.classes):
            raise LabkitError(_("The labels do not match the model (%(a)s labels, %(b)s outputs).",
                                a=len(self.classes), b=n_out[1]),
                              code="bad_model", fix=_("Import the model with its own labels."))

    def predict_proba(self, X: Any) -> np.ndarray:
        arr = np.asarray(X, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None, :]
        if self.n_features is not None and (arr.ndim != 2 or arr.shape[1] != self.n_features):
            raise LabkitError(
                _("The model expects %(d)s features per sample, got shape %(shape)s.",
                  d=self.n_features, shape=str(tuple(arr.shape))),
                code="bad_features", fix=_("Use the same feature extractor as in training."))
        (proba,) = self.session.run([ONNX_PROBABILITIES], {self.input_name: arr})
        return np.asarray(proba, dtype=np.float64)

    def predict(self, X: Any) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(X).argmax(axis=1)]
