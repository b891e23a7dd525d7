"""int8 quantization with onnxruntime.quantization on models trained/built in the test."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from labkit.models import ModelError
from labkit.models.quantize import has_conv, quantize_onnx
from labkit.models.runtime import OnnxModel


@pytest.fixture(scope="module")
def mlp(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    from skl2onnx import to_onnx
    from sklearn.datasets import make_classification
    from sklearn.neural_network import MLPClassifier

    X, y = make_classification(n_samples=800, n_features=16, n_informative=8, n_classes=4,
                               n_clusters_per_class=1, class_sep=2.0, random_state=0)
    X = X.astype(np.float32)
    clf = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=500, random_state=0).fit(X, y)
    onx = to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
    path = tmp_path_factory.mktemp("mlp") / "mlp.onnx"
    path.write_bytes(onx.SerializeToString())
    return path, X


def test_dynamic_quantization_of_sklearn_mlp(mlp: tuple[Path, np.ndarray],
                                             tmp_path: Path) -> None:
    src, X = mlp
    calib = tmp_path / "calib"
    calib.mkdir()
    np.save(calib / "a.npy", X[:400])
    np.savez(calib / "b.npz", X=X[400:])                      # skl2onnx names its input X
    assert not has_conv(src)
    report = quantize_onnx(src, tmp_path / "mlp.int8.onnx", calib)
    assert report.mode == "dynamic"
    assert report.samples == 800
    assert report.compared_output == "label"
    assert report.agreement >= 0.99
    assert report.dst_bytes < report.src_bytes and report.note == ""
    # check it ourselves too, on data it was not calibrated on
    f = OnnxModel(src)
    q = OnnxModel(tmp_path / "mlp.int8.onnx")
    ops = {n.op_type for n in onnx.load(str(tmp_path / "mlp.int8.onnx")).graph.node}
    assert ops & {"DynamicQuantizeLinear", "MatMulInteger", "DynamicQuantizeMatMul"}
    rng = np.random.default_rng(5)
    Xt = (X[rng.integers(0, len(X), 300)] + rng.normal(0, 0.05, (300, X.shape[1]))
          ).astype(np.float32)
    agree = np.mean(f.run({"X": Xt})["label"] == q.run({"X": Xt})["label"])
    assert agree >= 0.99
    assert _widest_int8_weight(tmp_path / "mlp.int8.onnx") <= SATURATION_FREE


# |w| <= 64 keeps VPMADDUBSW's int16 pair sums (2 * 255 * |w|) from saturating on x86 CPUs
# without VNNI, so the int8 model computes the same on every CPU (see labkit.models.quantize).
SATURATION_FREE = 64


def _widest_int8_weight(path: Path) -> int:
    """The largest |w| over the int8 weight tensors (not zero points, which may be -128)."""
    model = onnx.load(str(path))
    weight_inputs = {"DequantizeLinear": 0, "MatMulInteger": 1, "ConvInteger": 1,
                     "DynamicQuantizeMatMul": 1}
    names = {n.input[weight_inputs[n.op_type]] for n in model.graph.node
             if n.op_type in weight_inputs}
    weights = [numpy_helper.to_array(t) for t in model.graph.initializer
               if t.data_type == TensorProto.INT8 and t.name in names]
    assert weights, "no int8 weights in the quantized model"
    return max(int(np.abs(w.astype(np.int32)).max()) for w in weights)


def _conv_model(path: Path) -> Path:
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(0, 0.3, (8, 1, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.zeros(8, np.float32), "b")
    fc = numpy_helper.from_array(rng.normal(0, 0.2, (8 * 6 * 6, 3)).astype(np.float32), "fc")
    shape = numpy_helper.from_array(np.array([1, -1], np.int64), "shape")
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Reshape", ["r", "shape"], ["flat"]),
             helper.make_node("MatMul", ["flat", "fc"], ["logits"])]
    graph = helper.make_graph(
        nodes, "tiny_cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])],
        initializer=[w, b, fc, shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_static_qdq_for_conv_models(tmp_path: Path) -> None:
    src = _conv_model(tmp_path / "cnn.onnx")
    assert has_conv(src)
    calib = tmp_path / "calib"
    calib.mkdir()
    rng = np.random.default_rng(1)
    np.save(calib / "x.npy", rng.uniform(0, 1, (64, 1, 8, 8)).astype(np.float32))
    report = quantize_onnx(src, tmp_path / "cnn.int8.onnx", calib)
    assert report.mode == "static" and report.samples == 64
    ops = [n.op_type for n in onnx.load(str(tmp_path / "cnn.int8.onnx")).graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    assert report.agreement >= 0.9
    assert report.max_abs_error < 0.5
    assert report.dst_bytes < report.src_bytes
    assert _widest_int8_weight(tmp_path / "cnn.int8.onnx") <= SATURATION_FREE


_ON_OLD_X86 = """
import json, sys
import numpy as np
import onnxruntime as ort
from labkit.models.quantize import agreement
x = np.load(sys.argv[3])
runs = []
for path in sys.argv[1:3]:
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    outs = [o.name for o in session.get_outputs()]
    runs.append([dict(zip(outs, session.run(None, {name: x[i:i + 1]}))) for i in range(len(x))])
agree, err, key, rows = agreement(*runs)
print(json.dumps({"agreement": agree, "max_abs_error": err, "rows": rows}))
"""


@pytest.mark.slow
@pytest.mark.skipif(platform.machine() != "x86_64" or not shutil.which("qemu-x86_64-static"),
                    reason="needs an x86-64 host with qemu-user-static (Debian package)")
def test_static_qdq_agrees_on_a_cpu_without_vnni(tmp_path: Path) -> None:
    """The conv model quantized here, then float and int8 run side by side on an emulated
    Haswell (AVX2, no VNNI), where full-range int8 weights made max |float - int8| 0.95
    through VPMADDUBSW saturation. The quantizer's choices do not depend on the CPU; the int8
    kernels do, so only running the two models is emulated (emulating the quantizer's imports
    too cost most of this test's time)."""
    src = _conv_model(tmp_path / "cnn.onnx")
    (tmp_path / "calib").mkdir()
    x = np.random.default_rng(1).uniform(0, 1, (64, 1, 8, 8)).astype(np.float32)
    np.save(tmp_path / "calib" / "x.npy", x)
    quantize_onnx(src, tmp_path / "cnn.int8.onnx", tmp_path / "calib")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[3]), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run(
        ["qemu-x86_64-static", "-cpu", "Haswell", sys.executable, "-c", _ON_OLD_X86,
         str(src), str(tmp_path / "cnn.int8.onnx"), str(tmp_path / "calib" / "x.npy")],
        capture_output=True, text=True, timeout=600, env=env, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["rows"] == 64
    assert report["agreement"] >= 0.9
    assert report["max_abs_error"] < 0.2


def test_bad_calibration_folders(mlp: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    src, X = mlp
    with pytest.raises(ModelError, match="does not exist"):
        quantize_onnx(src, tmp_path / "q.onnx", tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="no .npy"):
        quantize_onnx(src, tmp_path / "q.onnx", empty)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    np.save(wrong / "x.npy", np.zeros((4, 3), np.float32))      # 3 features, model wants 16
    with pytest.raises(ModelError) as err:
        quantize_onnx(src, tmp_path / "q.onnx", wrong)
    assert err.value.code == "bad_calibration"
    (wrong / "x.npy").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="not a readable numpy file"):
        quantize_onnx(src, tmp_path / "q.onnx", wrong)
    assert not (tmp_path / "q.onnx").exists()
