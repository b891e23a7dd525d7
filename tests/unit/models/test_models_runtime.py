"""The Model interface over real models: shapes, equality with the raw runtimes, errors."""

from __future__ import annotations

import builtins
import sys
from typing import Any

import numpy as np
import pytest

from labkit.models import ModelError, ModelStore, TensorInfo
from labkit.models import runtime
from tests.unit.models.conftest import tree_hash


def test_blazeface_via_litert(model_store: ModelStore) -> None:
    model = model_store.load("face_detection_short_range")
    assert model.backend == "litert"
    assert model.inputs == [TensorInfo("input", (1, 128, 128, 3), np.float32)]
    x = np.random.default_rng(0).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    out = model.run({"input": x})
    assert out["regressors"].shape == (1, 896, 16)
    assert out["classificators"].shape == (1, 896, 1)
    assert out["regressors"].dtype == np.float32 and np.isfinite(out["regressors"]).all()


def test_run_equals_raw_interpreter(model_store: ModelStore) -> None:
    from ai_edge_litert.interpreter import Interpreter

    model = model_store.load("face_detection_short_range")
    x = np.random.default_rng(1).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    ours = model.run(x)                               # one input: a bare array is accepted
    raw = Interpreter(model_path=str(model_store.path("face_detection_short_range")),
                      num_threads=1)
    raw.allocate_tensors()
    raw.set_tensor(raw.get_input_details()[0]["index"], x)
    raw.invoke()
    for d in raw.get_output_details():
        np.testing.assert_allclose(ours[d["name"]], raw.get_tensor(d["index"]), rtol=1e-5,
                                   atol=1e-5)


def test_silero_vad_via_onnxruntime(model_store: ModelStore) -> None:
    import onnxruntime as ort

    model = model_store.load("silero_vad")
    assert model.backend == "onnx"
    assert [t.name for t in model.inputs] == ["input", "state", "sr"]
    rng = np.random.default_rng(2)
    feeds = {"input": (rng.standard_normal((1, 576)) * 0.1).astype(np.float32),
             "state": np.zeros((2, 1, 128), np.float32), "sr": np.array(16000, np.int64)}
    out = model.run(feeds)
    assert out["output"].shape == (1, 1) and 0.0 <= float(out["output"][0, 0]) <= 1.0
    assert out["stateN"].shape == (2, 1, 128)
    raw = ort.InferenceSession(str(model_store.path("silero_vad")))
    np.testing.assert_allclose(out["output"], raw.run(None, feeds)[0], rtol=1e-5, atol=1e-6)


def test_emotion_classifier_has_seven_outputs(model_store: ModelStore) -> None:
    model = model_store.load("emotion_fer")
    out = model.run(np.zeros((1, 64, 64, 1), np.float32))
    assert out[model.output_names[0]].shape == (1, len(model_store.info("emotion_fer").labels))


def test_haar_cascade_finds_the_astronaut(model_store: ModelStore) -> None:
    from skimage import data

    import cv2

    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    model = model_store.load("haarcascade_frontalface_default")
    boxes = model.run({"image": bgr})["boxes"]
    assert boxes.shape[1] == 4 and len(boxes) >= 1
    # the face in skimage's astronaut is around x 0.35, y 0.16 of the 512 px frame
    x, y, w, h = boxes[np.argmax(boxes[:, 2])]
    assert 120 < x + w / 2 < 260 and 40 < y + h / 2 < 160
    assert len(model.run(np.zeros((120, 160), np.uint8))["boxes"]) == 0


def test_missing_and_wrong_inputs(model_store: ModelStore) -> None:
    face = model_store.load("face_detection_short_range")
    with pytest.raises(ModelError, match="missing input"):
        face.run({"image": np.zeros((1, 128, 128, 3), np.float32)})
    with pytest.raises(ModelError) as err:
        face.run({"input": np.zeros((1, 128, 128, 3), np.uint8)})
    assert err.value.code == "bad_input" and "float32" in err.value.message
    vad = model_store.load("silero_vad")
    with pytest.raises(ModelError, match="missing input"):
        vad.run({"input": np.zeros((1, 576), np.float32)})
    with pytest.raises(ModelError) as err:
        vad.run({"input": np.zeros((1, 576), np.float64), "state": np.zeros((2, 1, 128),
                 np.float32), "sr": np.array(16000, np.int64)})
    assert err.value.code == "bad_input"


def _block_imports(monkeypatch: pytest.MonkeyPatch, *prefixes: str) -> None:
    real = builtins.__import__

    def fake(name: str, *args: Any, **kw: Any) -> Any:
        if name.startswith(prefixes):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kw)

    for mod in list(sys.modules):
        if mod.startswith(prefixes):
            monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", fake)
    import importlib

    real_import_module = importlib.import_module

    def fake_import_module(name: str, *args: Any) -> Any:
        if name.startswith(prefixes):
            raise ImportError(f"No module named {name!r}")
        return real_import_module(name, *args)

    monkeypatch.setattr(importlib, "import_module", fake_import_module)


def test_no_litert_runtime_names_both(make_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(("face_detection_short_range",))
    before = tree_hash(store.models_dir)
    _block_imports(monkeypatch, "ai_edge_litert", "tflite_runtime")
    with pytest.raises(ModelError) as err:
        store.load("face_detection_short_range")
    assert err.value.code == "no_runtime"
    assert "ai_edge_litert" in err.value.message and "tflite_runtime" in err.value.message
    assert "pip install ai-edge-litert" in err.value.fix
    assert store.loaded() == [] and tree_hash(store.models_dir) == before


def test_litert_fallback_to_tflite_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeInterpreter:
        pass

    import importlib
    import types

    real = importlib.import_module

    def fake(name: str, *args: Any) -> Any:
        if name == "ai_edge_litert.interpreter":
            raise ImportError("no ai_edge_litert")
        if name == "tflite_runtime.interpreter":
            return types.SimpleNamespace(Interpreter=FakeInterpreter)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", fake)
    assert runtime.litert_interpreter_class() is FakeInterpreter


def test_no_onnxruntime(make_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(("silero_vad",))
    before = tree_hash(store.models_dir)
    _block_imports(monkeypatch, "onnxruntime")
    with pytest.raises(ModelError) as err:
        store.load("silero_vad")
    assert err.value.code == "no_runtime" and "pip install onnxruntime" in err.value.fix
    assert tree_hash(store.models_dir) == before


def test_threads_reach_onnxruntime(model_store: ModelStore) -> None:
    model = runtime.OnnxModel(model_store.path("silero_vad"), threads=3)
    opts = model.session.get_session_options()
    assert opts.intra_op_num_threads == 3 and opts.inter_op_num_threads == 1


def test_cascade_cache_memory_estimate_is_positive(model_store: ModelStore) -> None:
    model = model_store.load("haarcascade_eye")
    assert model.memory_estimate() >= 1 << 20
