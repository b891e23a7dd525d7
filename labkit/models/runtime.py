"""One `Model` interface over LiteRT, ONNX Runtime and OpenCV Haar cascades.

Why one interface: vision and audio code should not care which runtime a model needs.
`model.inputs` / `model.outputs` describe the tensors, `model.run({name: array})` returns
`{name: array}` exactly as the raw interpreter would. `run` does nothing but set/invoke/get on
cached tensor indices, so it costs the same as calling the interpreter directly (bench/models.py
measures it).

LiteRT comes from `ai_edge_litert` (the maintained wheel) with `tflite_runtime` as fallback for
older Pi images. Thread counts come from Settings.threads (4 on a Pi 4/5).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from labkit.models.errors import ModelError

log = logging.getLogger(__name__)

LITERT_MODULES = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")
ONNX_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
    "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(int16)": np.int16,
    "tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


@dataclass(frozen=True)
class TensorInfo:
    """A model input or output. Unknown (dynamic) dimensions are None."""

    name: str
    shape: tuple[int | None, ...]
    dtype: Any                                 # a numpy scalar type, e.g. np.float32
    quantization: tuple[float, int] | None = None   # (scale, zero_point) for int8 tensors

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "shape": list(self.shape),
                             "dtype": np.dtype(self.dtype).name}
        if self.quantization:
            d["quantization"] = list(self.quantization)
        return d


_telemetry_lock = threading.Lock()
_telemetry_off = False


def onnxruntime_module() -> Any:
    """`onnxruntime`, imported with its telemetry switched off (once per process).

    ONNX Runtime's telemetry client resolves and connects to a Microsoft endpoint from its own
    threads: on a school network that sends data out of a classroom. The environment variable
    works only if it is set before the first import (labkit/__init__.py sets it too); the API
    call covers events that a process which imported onnxruntime earlier would still send.
    """
    global _telemetry_off
    import labkit

    if "onnxruntime" not in sys.modules:
        os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    elif labkit.ORT_IMPORTED_BEFORE_LABKIT and not _telemetry_off:
        log.warning("onnxruntime was imported before labkit; its telemetry may still run "
                    "(import labkit first, or set ORT_DISABLE_TELEMETRY=1)")
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError(f"ONNX Runtime is not installed ({exc})", code="no_runtime",
                         fix="pip install onnxruntime") from None
    if not _telemetry_off:
        with _telemetry_lock:
            if not _telemetry_off:
                ort.disable_telemetry_events()
                _telemetry_off = True
    return ort


def onnx_session(model: str | os.PathLike[str] | bytes, *, threads: int = 2,
                 log_severity_level: int | None = None) -> Any:
    """The one place an `onnxruntime.InferenceSession` is made (CPU, telemetry off).

    Raises whatever ONNX Runtime raises for a bad model; callers turn it into their own error.
    """
    ort = onnxruntime_module()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, int(threads))
    opts.inter_op_num_threads = 1
    if log_severity_level is not None:
        opts.log_severity_level = log_severity_level
    source = model if isinstance(model, (bytes, bytearray)) else os.fspath(model)
    return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])


def release_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc `malloc_trim`).

    Why: loading a graph from bytes (a sealed model is opened in memory) and a burst of
    inferences leave tens of MB freed but still held by the allocator, which a long-running
    kit process would otherwise keep for ever. Call it after such one-off work; a no-op where
    the C library has no `malloc_trim`.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Model:
    """A loaded model. Subclasses fill `inputs`, `outputs` and implement `run`."""

    backend = "none"

    def __init__(self, path: Path, name: str = "") -> None:
        self.path = Path(path)
        self.name = name or self.path.stem
        self.inputs: list[TensorInfo] = []
        self.outputs: list[TensorInfo] = []
        self.load_seconds = 0.0

    def run(self, feeds: Mapping[str, np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]

    def memory_estimate(self) -> int:
        """Bytes this model is counted for in the LRU budget.

        An estimate, not a measurement: runtimes repack weights (XNNPACK, ORT prepacking) and
        add activation buffers, which comes to about twice the file size for these models.
        """
        try:
            size = self.path.stat().st_size
        except OSError:
            size = 0
        return max(2 * size, 1 << 20)

    def close(self) -> None:
        """Drop the runtime objects (memory returns once no caller holds the model)."""

    def _missing_input(self, feeds: Mapping[str, Any]) -> ModelError:
        missing = [n for n in self.input_names if n not in feeds]
        return ModelError(f"model {self.name}: missing input(s) {', '.join(missing)}; "
                          f"it takes {', '.join(self.input_names)}", code="bad_input",
                          fix="pass a dict {input name: numpy array}")

    def _bad_input(self, exc: Exception) -> ModelError:
        want = "; ".join(f"{t.name} {list(t.shape)} {np.dtype(t.dtype).name}"
                         for t in self.inputs)
        return ModelError(f"model {self.name} rejected its input ({exc}); it takes {want}",
                          code="bad_input", fix="resize/convert the array to the shape and dtype")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.backend}>"


def litert_interpreter_class() -> Any:
    """LiteRT's Interpreter: ai_edge_litert first, tflite_runtime as fallback."""
    errors = []
    for module in LITERT_MODULES:
        try:
            return importlib.import_module(module).Interpreter
        except ImportError as exc:
            errors.append(f"{module} ({exc})")
    raise ModelError("no TensorFlow Lite runtime is installed: tried " + " and ".join(errors),
                     code="no_runtime",
                     fix="pip install ai-edge-litert  (or, on an old Pi image, tflite-runtime)")


class LiteRTModel(Model):
    backend = "litert"

    def __init__(self, path: Path, *, threads: int = 2, name: str = "",
                 interpreter_cls: Any = None) -> None:
        super().__init__(path, name)
        interpreter_cls = interpreter_cls or litert_interpreter_class()
        t0 = time.perf_counter()
        try:
            it = interpreter_cls(model_path=str(path), num_threads=max(1, threads))
            it.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"model {self.name}: {path.name} is not a valid TFLite model "
                             f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
                             code="model_invalid",
                             fix=f"run: labkit models fetch {self.name}") from None
        self.load_seconds = time.perf_counter() - t0
        self.interpreter = it
        self._lock = threading.Lock()
        self._describe()

    def _describe(self) -> None:
        it = self.interpreter
        ins, outs = it.get_input_details(), it.get_output_details()
        self.inputs = [self._info(d) for d in ins]
        self.outputs = [self._info(d) for d in outs]
        self._in = [(d["name"], d["index"]) for d in ins]
        self._out = [(d["name"], d["index"]) for d in outs]
        self._single = self._in[0][0] if len(self._in) == 1 else None

    @staticmethod
    def _info(d: dict[str, Any]) -> TensorInfo:
        scale, zero = d.get("quantization", (0.0, 0))
        return TensorInfo(d["name"], tuple(int(x) for x in d["shape"]), d["dtype"],
                          (float(scale), int(zero)) if scale else None)

    def run(self, feeds: Mapping[str, np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
        if self._single is not None and isinstance(feeds, np.ndarray):
            feeds = {self._single: feeds}
        it = self.interpreter
        with self._lock:
            try:
                for name, index in self._in:
                    it.set_tensor(index, feeds[name])
            except KeyError:
                raise self._missing_input(feeds) from None
            except ValueError as exc:
                if not self._resized(feeds):
                    raise self._bad_input(exc) from None
            it.invoke()
            get = it.get_tensor
            return {name: get(index) for name, index in self._out}

    def _resized(self, feeds: Mapping[str, np.ndarray]) -> bool:
        """Models with a free batch/size dimension: resize the input tensors and retry once."""
        it = self.interpreter
        try:
            for name, index in self._in:
                arr = np.asarray(feeds[name])
                it.resize_tensor_input(index, list(arr.shape))
            it.allocate_tensors()
            self._describe()
            for name, index in self._in:
                it.set_tensor(index, feeds[name])
        except (ValueError, RuntimeError):
            return False
        return True

    def close(self) -> None:
        self.__dict__.pop("interpreter", None)


class OnnxModel(Model):
    backend = "onnx"

    def __init__(self, path: Path, *, threads: int = 2, name: str = "") -> None:
        super().__init__(path, name)
        onnxruntime_module()            # ModelError if it is not installed
        t0 = time.perf_counter()
        try:
            self.session = onnx_session(path, threads=threads, log_severity_level=3)
        except Exception as exc:  # ORT raises its own pybind exception types
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelError(f"model {self.name}: {path.name} is not a valid ONNX model "
                             f"({first[:200]})", code="model_invalid",
                             fix=f"run: labkit models fetch {self.name}") from None
        self.load_seconds = time.perf_counter() - t0
        self.inputs = [self._info(i) for i in self.session.get_inputs()]
        self.outputs = [self._info(o) for o in self.session.get_outputs()]
        self._out_names = [o.name for o in self.outputs]
        self._single = self.inputs[0].name if len(self.inputs) == 1 else None

    @staticmethod
    def _info(arg: Any) -> TensorInfo:
        shape = tuple(d if isinstance(d, int) else None for d in arg.shape)
        return TensorInfo(arg.name, shape, ONNX_TYPES.get(arg.type, np.object_))

    def run(self, feeds: Mapping[str, np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
        if self._single is not None and isinstance(feeds, np.ndarray):
            feeds = {self._single: feeds}
        try:
            values = self.session.run(None, feeds)  # all outputs, in self._out_names order
        except Exception as exc:  # InvalidArgument/Fail from ORT's pybind layer
            if any(n not in feeds for n in self.input_names):
                raise self._missing_input(feeds) from None
            raise self._bad_input(exc) from None
        return dict(zip(self._out_names, values, strict=True))

    def close(self) -> None:
        self.__dict__.pop("session", None)


class CascadeModel(Model):
    """OpenCV Haar cascade: input `image` (grey or BGR uint8), output `boxes` [N, 4] x,y,w,h."""

    backend = "opencv_cascade"

    def __init__(self, path: Path, *, threads: int = 2, name: str = "",
                 scale_factor: float = 1.1, min_neighbors: int = 5,
                 min_size: tuple[int, int] = (24, 24)) -> None:
        super().__init__(path, name)
        try:
            import cv2
        except ImportError as exc:
            raise ModelError(f"OpenCV is not installed ({exc})", code="no_runtime",
                             fix="pip install 'opencv-python-headless<5'") from None
        if not hasattr(cv2, "CascadeClassifier"):
            raise ModelError(f"OpenCV {cv2.__version__} has no CascadeClassifier "
                             "(OpenCV 5 moved Haar cascades out)", code="no_runtime",
                             fix="pip install 'opencv-python-headless>=4.9,<5'")
        self._cv2 = cv2
        t0 = time.perf_counter()
        clf = cv2.CascadeClassifier()
        ok = False
        try:
            ok = clf.load(str(path))
        except cv2.error:
            ok = False
        if not ok or clf.empty():
            raise ModelError(f"model {self.name}: {path.name} is not a valid Haar cascade",
                             code="model_invalid", fix=f"run: labkit models fetch {self.name}")
        self.load_seconds = time.perf_counter() - t0
        self.classifier = clf
        self.params = {"scaleFactor": scale_factor, "minNeighbors": min_neighbors,
                       "minSize": tuple(min_size)}
        self.inputs = [TensorInfo("image", (None, None), np.uint8)]
        self.outputs = [TensorInfo("boxes", (None, 4), np.int32)]

    def run(self, feeds: Mapping[str, np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
        image = feeds if isinstance(feeds, np.ndarray) else feeds.get("image")
        if image is None:
            raise self._missing_input(feeds)  # type: ignore[arg-type]
        return {"boxes": self.detect(image)}

    def detect(self, image: np.ndarray, **params: Any) -> np.ndarray:
        if image.ndim == 3:
            image = self._cv2.cvtColor(image, self._cv2.COLOR_BGR2GRAY)
        if image.dtype != np.uint8:
            raise self._bad_input(ValueError(f"dtype {image.dtype}"))
        found = self.classifier.detectMultiScale(image, **{**self.params, **params})
        return np.asarray(found, dtype=np.int32).reshape(-1, 4)

    def close(self) -> None:
        self.__dict__.pop("classifier", None)


BACKEND_CLASSES: dict[str, type[Model]] = {
    "litert": LiteRTModel, "onnx": OnnxModel, "opencv_cascade": CascadeModel,
}


def open_model(path: Path, backend: str, *, threads: int = 2, name: str = "") -> Model:
    """Load a model file with the named backend ('files' models are data, not runnable)."""
    cls = BACKEND_CLASSES.get(backend)
    if cls is None:
        raise ModelError(f"model {name or path.name} is data for a library ({backend}), "
                         "not something the kit runs itself", code="not_runnable",
                         fix="use store.path(name) and hand the path to the library")
    return cls(Path(path), threads=threads, name=name)


def backends_for(path: Path) -> list[str]:
    """Which backends can run this file (by suffix), for `labkit models bench`."""
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        return ["litert"]
    if suffix == ".onnx":
        return ["onnx"]
    if suffix == ".xml":
        return ["opencv_cascade"]
    return []


class ModelCache:
    """Loaded models, least recently used evicted first when over a memory budget.

    The model just loaded always stays, even if it alone is over budget. An evicted model
    keeps working for whoever still holds it; the cache just stops holding it.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._models: OrderedDict[str, Model] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Model | None:
        with self._lock:
            model = self._models.get(name)
            if model is not None:
                self._models.move_to_end(name)
            return model

    def put(self, name: str, model: Model) -> None:
        size = model.memory_estimate()
        with self._lock:
            self._models[name] = model
            self._sizes[name] = size
            self._models.move_to_end(name)
            while self.used > self.budget and len(self._models) > 1:
                old, _ = self._models.popitem(last=False)
                self._sizes.pop(old, None)
                log.info("model cache over %d MB: unloading %s", self.budget >> 20, old)

    @property
    def used(self) -> int:
        return sum(self._sizes.values())

    def names(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def clear(self, name: str | None = None) -> None:
        with self._lock:
            names = [name] if name else list(self._models)
            for n in names:
                self._models.pop(n, None)
                self._sizes.pop(n, None)
