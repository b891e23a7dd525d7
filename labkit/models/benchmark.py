"""Latency of a model on this machine: p50/p95 per backend and thread count.

Used by `labkit models bench NAME` and bench/models.py. Inputs are generated from the model's
own tensor description (plus the manifest's normalisation and a few size hints for models
with free dimensions), so any model in the store can be timed without sample data.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from labkit.errors import LabkitError
from labkit.models.registry import ModelEntry, ModelStore
from labkit.models.runtime import LITERT_MODULES, LiteRTModel, Model, open_model

# Shapes for inputs with free dimensions, by task (what the kit feeds them in practice).
EXAMPLE_SHAPES: dict[str, dict[str, list[int]]] = {
    "vad": {"input": [1, 576], "state": [2, 1, 128]},
    "ocr_detection": {"x": [1, 3, 320, 320]},
    "ocr_recognition": {"x": [1, 3, 48, 320]},
    "ocr_direction": {"x": [1, 3, 48, 192]},
    "face_detection": {"image": [240, 320]},
    "eye_detection": {"image": [120, 160]},
}


@dataclass
class BenchRow:
    backend: str
    threads: int
    runs: int
    load_ms: float
    p50_ms: float
    p95_ms: float
    mean_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def example_feeds(model: Model, entry: ModelEntry | None = None, seed: int = 0
                  ) -> dict[str, np.ndarray]:
    """A plausible input for every tensor the model takes."""
    rng = np.random.default_rng(seed)
    hints = EXAMPLE_SHAPES.get(entry.task, {}) if entry else {}
    norm = entry.normalisation if entry else {}
    low, high = (norm.get("range") or [0.0, 1.0])[:2]
    feeds = {}
    for t in model.inputs:
        shape = hints.get(t.name) or [1 if i == 0 and d is None else (d if d is not None else 32)
                                      for i, d in enumerate(t.shape)]
        dtype = np.dtype(t.dtype)
        if dtype.kind == "f":
            arr = rng.uniform(low, high, size=shape).astype(dtype)
        elif dtype.kind in "iu" and not shape:
            value = norm.get("sample_rate", 1) if t.name in ("sr", "sample_rate") else 1
            arr = np.array(value, dtype=dtype)
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            arr = rng.integers(max(info.min, -128), min(info.max, 255) + 1, size=shape,
                               dtype=dtype)
        elif dtype.kind == "b":
            arr = rng.integers(0, 2, size=shape).astype(bool)
        else:
            raise LabkitError(f"cannot make an example input of type {dtype} for {t.name}",
                              code="bench_input", fix="benchmark this model from Python")
        feeds[t.name] = arr
    return feeds


def time_runs(fn: Any, runs: int, warmup: int = 3) -> np.ndarray:
    for _ in range(warmup):
        fn()
    out = np.empty(runs)
    for i in range(runs):
        t0 = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - t0
    return out * 1000.0


def litert_variants() -> list[str]:
    """The LiteRT packages importable here (each is a 'backend' for `models bench`)."""
    found = []
    for module in LITERT_MODULES:
        try:
            if importlib.util.find_spec(module) is not None:
                found.append(module)
        except (ImportError, ValueError):
            pass
    return found


def bench_model(store: ModelStore, name: str, *, runs: int = 50,
                threads: list[int] | None = None) -> list[BenchRow]:
    """Time every backend (and thread count) that can run the model."""
    entry = store.info(name)
    path = store.path(name)
    threads = threads or sorted({1, store.threads})
    rows: list[BenchRow] = []
    variants: list[tuple[str, str | None]]
    if entry.backend == "litert":
        variants = [("litert", m) for m in litert_variants()] or [("litert", None)]
    elif entry.backend == "files":
        raise LabkitError(f"model {name} is data for a library, there is nothing to time",
                          code="not_runnable", fix="benchmark it through its library")
    else:
        variants = [(entry.backend, None)]
    for backend, module in variants:
        for n in (threads if backend != "opencv_cascade" else [1]):
            t0 = time.perf_counter()
            if module is not None:
                cls = importlib.import_module(module).Interpreter
                model = LiteRTModel(path, threads=n, name=name, interpreter_cls=cls)
                label = f"litert ({module.split('.')[0]})"
            else:
                model = open_model(path, backend, threads=n, name=name)
                label = backend
            load_ms = (time.perf_counter() - t0) * 1000
            feeds = example_feeds(model, entry)
            ms = time_runs(lambda m=model, f=feeds: m.run(f), runs)
            rows.append(BenchRow(label, n, runs, round(load_ms, 2),
                                 round(float(np.percentile(ms, 50)), 3),
                                 round(float(np.percentile(ms, 95)), 3),
                                 round(float(ms.mean()), 3)))
            model.close()
    return rows
