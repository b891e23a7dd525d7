"""The quantisation experiment: one teachable model as float32 and as int8, measured on the kit.

Why: the 量化实验 lab asks students to weigh size, speed and accuracy against each other, so
every number in the table must come from this kit, now — file sizes read from the written
files, latency timed over repeated single-sample predictions, accuracy counted on the held-out
samples that were split off before any augmentation. The model measured is the one fitted on
the training part only (`TrainedClassifier.held_out_pipeline`), so its held-out accuracy is
honest for both variants; with too few held-out samples accuracy is None ("too few samples to
measure"), never 100%.

The result is published on the bus as `learn.quantized` (the lab's checks read it) and can be
drawn as an SVG bar chart (`chart_svg`) with no browser library.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from labkit.models.trainable import OnnxClassifier, TrainedClassifier, train_classifier

TOPIC = "learn.quantized"
MIN_TEST_SAMPLES = 8
LATENCY_RUNS = 50
WARMUP_RUNS = 5


@dataclasses.dataclass
class Variant:
    """One row of the table."""

    name: str                      # "float32" or "int8"
    bytes: int                     # size of the written .onnx file
    latency_ms: float              # median of LATENCY_RUNS single-sample predictions
    latency_runs: list[float]      # every timed run, ms (the chart can show the spread)
    correct: int                   # held-out samples answered right
    n_test: int

    @property
    def accuracy(self) -> float | None:
        return round(self.correct / self.n_test, 4) if self.n_test >= MIN_TEST_SAMPLES else None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.bytes, "latency_ms": round(self.latency_ms, 4),
                "accuracy": self.accuracy, "correct": self.correct, "n_test": self.n_test}


@dataclasses.dataclass
class Comparison:
    float32: Variant
    int8: Variant
    mode: str                      # labkit.models.quantize mode used ("dynamic"/"static")
    #: the trained classifier whose held-out model was measured (not part of the summary)
    classifier: TrainedClassifier | None = dataclasses.field(default=None, repr=False)

    def chart(self, labels: Mapping[str, str]) -> str:
        return chart_svg(self, labels)

    def summary(self) -> dict[str, Any]:
        """Flat figures for the bus event and the lab's checks."""
        f, q = self.float32, self.int8
        return {
            "float_bytes": f.bytes, "int8_bytes": q.bytes,
            "size_ratio": round(q.bytes / f.bytes, 4),
            "float_ms": round(f.latency_ms, 4), "int8_ms": round(q.latency_ms, 4),
            "speedup": round(f.latency_ms / q.latency_ms, 3) if q.latency_ms > 0 else None,
            "float_accuracy": f.accuracy, "int8_accuracy": q.accuracy,
            "accuracy_drop": (None if f.accuracy is None or q.accuracy is None
                              else round(f.accuracy - q.accuracy, 4)),
            "n_test": f.n_test, "mode": self.mode, "measured": True,
            "rows": [f.to_dict(), q.to_dict()],
        }


def _time_single(model: OnnxClassifier, rows: np.ndarray, runs: int) -> list[float]:
    """ms per single-sample prediction, one timing per run (cycling through `rows`)."""
    for i in range(WARMUP_RUNS):
        model.predict_proba(rows[i % len(rows)][None, :])
    out = []
    for i in range(runs):
        x = rows[i % len(rows)][None, :]
        t0 = time.perf_counter()
        model.predict_proba(x)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def _measure(name: str, path: Path, classes: Sequence[str], X: np.ndarray, test: np.ndarray,
             truth: np.ndarray, runs: int) -> Variant:
    model = OnnxClassifier(path.read_bytes(), classes)
    timings = _time_single(model, X[test] if len(test) else X, runs)
    pred = model.predict_proba(X[test]).argmax(1) if len(test) else np.zeros(0, np.int64)
    return Variant(name=name, bytes=path.stat().st_size,
                   latency_ms=float(statistics.median(timings)), latency_runs=timings,
                   correct=int((pred == truth).sum()), n_test=int(len(test)))


def compare_trained(clf: TrainedClassifier, X: Any, y: Sequence[Any], *,
                    runs: int = LATENCY_RUNS, workdir: Path | None = None) -> Comparison:
    """Export the held-out model of `clf` (trained on `X`, `y`) as float32 and int8, calibrate
    int8 on training rows only, and measure both on the held-out rows."""
    from labkit.models.quantize import quantize_onnx

    arr = np.asarray(X, dtype=np.float32)
    held_out = dataclasses.replace(clf, pipeline=clf.held_out_pipeline or clf.pipeline)
    test = np.asarray(clf.test_indices, dtype=np.int64)
    train = np.asarray(clf.train_indices, dtype=np.int64)
    truth = np.array([clf.classes.index(str(y[i])) for i in test], dtype=np.int64)
    with tempfile.TemporaryDirectory(dir=workdir, prefix="quantlab-") as tmp:
        f_path, q_path = Path(tmp) / "model_float32.onnx", Path(tmp) / "model_int8.onnx"
        f_path.write_bytes(held_out.to_onnx(doc="labkit quantisation lab, float32"))
        input_name = OnnxClassifier(f_path.read_bytes(), clf.classes).input_name
        feeds = [{input_name: arr[i:i + 1]} for i in train[:64]]
        report = quantize_onnx(f_path, q_path, feeds)
        f = _measure("float32", f_path, clf.classes, arr, test, truth, runs)
        q = _measure("int8", q_path, clf.classes, arr, test, truth, runs)
    return Comparison(float32=f, int8=q, mode=report.mode, classifier=clf)


def run_experiment(X: Any, y: Sequence[Any], *, kind: str = "mlp", seed: int = 0,
                   groups: Sequence[Any] | None = None, runs: int = LATENCY_RUNS,
                   publish: Callable[[str, Mapping[str, Any]], Any] | None = None
                   ) -> Comparison:
    """Train `kind` on feature rows (held-out split first, no augmentation), compare float32
    with int8, and publish the summary on `TOPIC` when `publish` (a bus's publish) is given."""
    clf = train_classifier(X, y, kind=kind, seed=seed, groups=groups)
    result = compare_trained(clf, X, y, runs=runs)
    if publish is not None:
        publish(TOPIC, result.summary())
    return result


def chart_svg(result: Comparison, labels: Mapping[str, str]) -> str:
    """Three small bar groups (size KB, latency ms, accuracy %), float32 beside int8.

    `labels` gives the translated captions: keys "size", "latency", "accuracy",
    "unmeasured" (shown instead of an accuracy bar with too few held-out samples).
    """
    from xml.sax.saxutils import escape

    f, q = result.float32, result.int8
    groups = [
        ("size", f.bytes / 1024, q.bytes / 1024, "{:.1f} KB"),
        ("latency", f.latency_ms, q.latency_ms, "{:.3f} ms"),
        ("accuracy", None if f.accuracy is None else 100 * f.accuracy,
         None if q.accuracy is None else 100 * q.accuracy, "{:.0f}%"),
    ]
    width, height, bar, gap = 480, 200, 40, 160
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             'role="img" class="quant-chart">']
    for g, (key, a, b, fmt) in enumerate(groups):
        x0 = 20 + g * gap
        parts.append(f'<text x="{x0 + bar}" y="{height - 5}" text-anchor="middle">'
                     f'{escape(labels[key])}</text>')
        if a is None or b is None:
            parts.append(f'<text x="{x0 + bar}" y="{height / 2}" text-anchor="middle">'
                         f'{escape(labels["unmeasured"])}</text>')
            continue
        top = max(a, b) or 1.0
        for i, (value, cls) in enumerate(((a, "float32"), (b, "int8"))):
            h = 140 * value / top
            x = x0 + i * (bar + 4)
            y = height - 25 - h
            parts.append(f'<rect class="{cls}" x="{x}" y="{y:.1f}" width="{bar}" '
                         f'height="{h:.1f}"><title>{cls}</title></rect>')
            parts.append(f'<text x="{x + bar / 2}" y="{y - 3:.1f}" text-anchor="middle" '
                         f'font-size="10">{escape(fmt.format(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)
