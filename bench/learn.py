"""Teachable-model benchmark: how long a class waits for "Train", and how fast "Try it live" is.

Dataset: 4 generated shape classes × 50 pictures (labkit.learn.synthetic), saved into a real
project on disk as the page would. Everything below is measured in this run:

* `train`: `train_project` wall time with the EfficientNet-Lite0 embedder — reading the saved
  samples, feature extraction, fit + held-out evaluation, ONNX export + check (goal ≤ 5 s) —
  against the HOG + colour fallback on the same project (baseline).
* `embedding`: per-sample embedding time inside training (batches of 16) and for a single
  frame, against the bare ONNX Runtime call on an already prepared tensor (baseline: our
  resize/colour/normalise overhead is the ratio).
* `predict`: `Predictor.predict(frame)` on a 640×480 camera-sized frame (what the live page
  calls per frame) against the bare ORT run of the same merged graph.
* `int8`: float vs int8 exported model — file size, per-frame latency, held-out accuracy.

Run: `python -m bench learn` → bench/results/learn.json.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench.common import write_result
from bench.models import _store as models_store

GOAL_TRAIN_S = 5.0
REPEATS = 3


def _median_ms(fn: Callable[[], Any], n: int = 30, warm: int = 3) -> float:
    for _ in range(warm):
        fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def press_to_live(per_class: int = 50) -> dict[str, Any]:
    """The page's own path: samples saved through LearnService (features computed in the
    background while "recording"), then Train → child process → first live prediction.

    Baseline in the same run: the old path, `train_project` in this process with every
    embedding computed at Train time (no cache)."""
    from labkit.config import Settings
    from labkit.learn.features import EmbeddingExtractor
    from labkit.learn.model import train_project
    from labkit.learn.service import LearnService
    from labkit.learn.synthetic import SHAPES, shapes_dataset
    from labkit.runtime import KitRuntime

    store = models_store()
    images, labels = shapes_dataset(per_class, SHAPES, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), hardware="sim", camera="synthetic",
                            microphone="simulated", host="127.0.0.1", threads=2)
        runtime = KitRuntime(settings)
        service = LearnService(runtime, store=store)
        try:
            project = service.projects.create("bench", "image", list(SHAPES))
            ids = {c.name: c.id for c in project.classes}
            t0 = time.perf_counter()
            for img, lbl in zip(images, labels, strict=True):
                sample = project.add_sample(ids[lbl], img)
                service.sample_saved(project, sample.id)
            saved_s = time.perf_counter() - t0
            service._features.wait_idle(project.id, 300)
            features_s = time.perf_counter() - t0
            # a class records for minutes: by Train the child has finished its imports
            service._worker.wait_ready(300)
            ready_s = time.perf_counter() - t0
            t_press = time.perf_counter()
            service.start_training(project.id)
            while (job := service.job(project.id)) and job["state"] == "running":
                time.sleep(0.01)
            trained_s = time.perf_counter() - t_press
            live = service.predict_live(project.id, act=False)
            press_s = time.perf_counter() - t_press
            assert job and job["state"] == "done", job
            timings = job["report"]["timings"]
            baseline_extractor = EmbeddingExtractor.from_store(store)
            t0 = time.perf_counter()
            train_project(project, baseline_extractor)
            baseline_s = time.perf_counter() - t0
        finally:
            service.close()
            runtime.close()
    return {"samples": len(images), "save_all_s": round(saved_s, 3),
            "background_features_done_s": round(features_s, 3),
            "trainer_warm_after_s": round(ready_s, 3),
            "press_to_trained_s": round(trained_s, 3),
            "press_to_live_prediction_s": round(press_s, 3),
            "child_timings_s": timings, "features_cached": job.get("features_cached"),
            "live_label": live["label"],
            "baseline_in_process_no_cache_s": round(baseline_s, 3),
            "ratio_vs_baseline": round(press_s / baseline_s, 3), "goal_s": 2.0}


def main(quick: bool = False) -> None:
    """Quick: only the page path (press → live prediction) on 4 × 12 pictures."""
    if quick:
        write_result("learn", {"quick": True, "press_to_live": press_to_live(per_class=12)})
        return
    live = press_to_live()
    import onnxruntime as ort

    from labkit.learn.dataset import ProjectStore
    from labkit.learn.features import EmbeddingExtractor, HogColourExtractor
    from labkit.learn.model import Predictor, make_int8, read_graph, train_project
    from labkit.learn.synthetic import SHAPES, shapes_dataset
    from labkit.models.efficientnet import preprocess

    store = models_store()
    embedder = EmbeddingExtractor.from_store(store)
    if embedder is None:
        raise RuntimeError("efficientnet_lite0_features is not in the model store")
    images, labels = shapes_dataset(50, SHAPES, seed=0)
    rng = np.random.default_rng(1)
    frame = np.ascontiguousarray(
        np.kron(images[0], np.ones((2, 2, 1), np.uint8))[:480, :640])       # camera-sized

    with tempfile.TemporaryDirectory() as tmp:
        projects = ProjectStore(Path(tmp))
        project = projects.create("bench", "image", list(SHAPES))
        ids = {c.name: c.id for c in project.classes}
        t0 = time.perf_counter()
        for img, lbl in zip(images, labels, strict=True):
            project.add_sample(ids[lbl], img)
        add_s = time.perf_counter() - t0

        runs = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            report = train_project(project, embedder)
            runs.append((time.perf_counter() - t0, report))
        train_s, report = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        hog_runs = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            hog_report = train_project(project, HogColourExtractor())
            hog_runs.append(time.perf_counter() - t0)
        hog_s = statistics.median(hog_runs)
        # back to the embedder model for prediction and int8
        report = train_project(project, embedder)

        # embedding: inside training (batched) and one frame, against the bare ORT call
        per_sample_train_ms = report.timings["per_sample_features_ms"]
        tensor1 = preprocess([frame])
        emb_one_ms = _median_ms(lambda: embedder.extract([frame]))
        emb_raw_ms = _median_ms(lambda: embedder.session.run(None, {"image": tensor1}))

        # live prediction per frame vs the bare merged graph
        predictor = Predictor(project)
        graph = predictor.runner.session
        predict_ms = _median_ms(lambda: predictor.predict(frame))
        predict_raw_ms = _median_ms(lambda: graph.run(None, {"image": tensor1}))

        # float vs int8
        t0 = time.perf_counter()
        int8 = make_int8(project, store=store)
        int8_s = time.perf_counter() - t0
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        # the kept graphs are sealed at rest (labkit.atrest): opened in memory
        q_sess = ort.InferenceSession(read_graph(project, int8=True), opts,
                                      providers=["CPUExecutionProvider"])
        f_sess = ort.InferenceSession(read_graph(project), opts,
                                      providers=["CPUExecutionProvider"])
        float_ms = _median_ms(lambda: f_sess.run(None, {"image": tensor1}))
        int8_ms = _median_ms(lambda: q_sess.run(None, {"image": tensor1}))
        # accuracy of both on pictures no model has seen (the kept model trained on all 200)
        fresh, fresh_labels = shapes_dataset(20, SHAPES, seed=1)
        fresh_x = preprocess(fresh)
        order = [c.name for c in project.classes]
        truth = np.array([order.index(lbl) for lbl in fresh_labels])

        def _fresh_acc(sess: Any) -> float:
            out = sess.run(["probabilities"], {"image": fresh_x})[0]
            return round(float((np.asarray(out).argmax(1) == truth).mean()), 4)

        fresh_float, fresh_int8 = _fresh_acc(f_sess), _fresh_acc(q_sess)
        del rng

    card = report.card
    result = {
        "quick": False, "press_to_live": live,
        "dataset": {"classes": list(SHAPES), "per_class": 50, "generator":
                    "labkit.learn.synthetic.shapes_dataset(seed=0)", "held_out": card["n_test"]},
        "add_samples_s": round(add_s, 3),
        "train": {
            "embedder_s": round(train_s, 3), "goal_s": GOAL_TRAIN_S,
            "meets_goal": train_s <= GOAL_TRAIN_S,
            "breakdown_s": {k: v for k, v in report.timings.items() if k.endswith("_s")},
            "hog_baseline_s": round(hog_s, 3),
            "ratio_vs_hog": round(train_s / hog_s, 2),
            "accuracy_embedder": card["accuracy"],
            "accuracy_hog": hog_report.card["accuracy"],
        },
        "embedding": {
            "per_sample_in_training_ms": per_sample_train_ms,
            "single_frame_ms": round(emb_one_ms, 2),
            "raw_ort_ms": round(emb_raw_ms, 2),
            "overhead_ratio": round(emb_one_ms / emb_raw_ms, 2),
        },
        "predict": {
            "per_frame_ms": round(predict_ms, 2), "raw_graph_ms": round(predict_raw_ms, 2),
            "ratio_vs_raw": round(predict_ms / predict_raw_ms, 2),
            "fps": round(1000 / predict_ms, 1),
        },
        "int8": {
            "quantize_s": round(int8_s, 2),
            "float_bytes": int8["float_bytes"], "int8_bytes": int8["bytes"],
            "size_ratio": round(int8["bytes"] / int8["float_bytes"], 3),
            "float_ms": round(float_ms, 2), "int8_ms": round(int8_ms, 2),
            "latency_ratio": round(int8_ms / float_ms, 2),
            "float_accuracy": fresh_float, "int8_accuracy": fresh_int8,
            "accuracy_on": "80 new pictures (shapes_dataset seed=1)",
            "agreement": int8["agreement"],
            "held_out_float_accuracy": int8.get("float_accuracy"),
            "held_out_int8_accuracy": int8.get("int8_accuracy"),
            "method": int8.get("method", "whole model quantised"),
        },
    }
    t, e, p, q = result["train"], result["embedding"], result["predict"], result["int8"]
    print(f"train 4x50 with embedder: {t['embedder_s']} s (goal {GOAL_TRAIN_S} s) = "
          f"{t['ratio_vs_hog']}x the HOG fallback ({t['hog_baseline_s']} s); accuracy "
          f"{t['accuracy_embedder']:.3f} vs {t['accuracy_hog']:.3f}")
    print(f"embedding: {e['per_sample_in_training_ms']} ms/sample in training, one frame "
          f"{e['single_frame_ms']} ms = {e['overhead_ratio']}x bare ORT ({e['raw_ort_ms']} ms)")
    print(f"live predict: {p['per_frame_ms']} ms/frame = {p['ratio_vs_raw']}x bare graph "
          f"({p['raw_graph_ms']} ms), {p['fps']} fps")
    print(f"int8: size {q['size_ratio']}x, latency {q['latency_ratio']}x "
          f"({q['int8_ms']} vs {q['float_ms']} ms), accuracy {q['int8_accuracy']:.3f} vs "
          f"{q['float_accuracy']:.3f}")
    write_result("learn", result)


if __name__ == "__main__":
    main()
