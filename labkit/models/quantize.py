"""int8 quantization of ONNX models with `onnxruntime.quantization`.

Why: a Pi runs int8 models 2-4x faster and they are ~4x smaller. Models with convolutions get
*static* QDQ quantization, calibrated on real inputs the teacher/student provides (activations
need ranges); models without convolutions (the small MLPs and logistic regressions of the
teachable labs) get *dynamic* quantization (weights int8, activations quantized on the fly),
which needs no calibration to be correct but is still checked on the calibration data.

Weights are quantized to 7 bits (`reduce_range`), in both modes. Why: on x86-64 CPUs without
VNNI (AVX2 or AVX-512 only, e.g. Haswell to Skylake) ONNX Runtime's int8 kernels multiply with
VPMADDUBSW, which adds two u8 x s8 products into a *saturating* int16; with full-range weights
(|w| <= 127) that sum reaches 2 * 255 * 127 = 64770 and is clipped. The same model then gives
different numbers on different machines (a test conv net: max |float - int8| 0.047 on a VNNI
CPU, 0.95 emulated as Haswell; dynamic MLP probabilities 0.014 vs 0.46). With |w| <= 64 the
sum stays below 32767 on every CPU and every CPU computes the same result; the cost is one bit
of weight precision (0.09 and 0.021 on both). ARM (the Pi) has no such instruction and is
unaffected either way.

Calibration data: a folder of `.npy` files (single-input models; one array per file) and/or
`.npz` files (keys = input names). An array whose first dimension is larger than the model's
fixed batch size of 1 is split into single rows.

The report says how big both models are and how often the int8 model agrees with the float
one on the calibration data (same arg-max / same label; for regressions, within 1% of range).
"""

from __future__ import annotations

import logging
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from labkit.models.errors import ModelError

log = logging.getLogger(__name__)

MAX_CALIBRATION_FEEDS = 2000
CONV_OPS = {"Conv", "ConvTranspose", "QLinearConv", "ConvInteger"}
QUANT_OPS = {"QuantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger",
             "QLinearConv", "QLinearMatMul", "DynamicQuantizeMatMul", "QGemm"}
DEFAULT_OPSET = 13


def _with_default_opset(src: Path, dst: Path) -> Path:
    """onnxruntime.quantization wants exactly one ai.onnx opset import; skl2onnx graphs can
    list it twice (same version) or, when made only of ONNX-ML operators, not at all."""
    import onnx

    model = onnx.load(str(src))
    versions: dict[str, int] = {}
    for o in model.opset_import:
        domain = "" if o.domain == "ai.onnx" else o.domain
        versions[domain] = max(versions.get(domain, 0), o.version)
    if len(versions) == len(model.opset_import) and "" in versions:
        return src
    versions.setdefault("", DEFAULT_OPSET)
    del model.opset_import[:]
    model.opset_import.extend(onnx.helper.make_opsetid(d, v) for d, v in versions.items())
    onnx.save(model, str(dst))
    return dst


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """onnxruntime.quantization logs an INFO line per tensor on the root logger; keep the
    terminal of `labkit models fetch` readable (warnings still show)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        root.setLevel(level)


def _float_type() -> int:
    import onnx

    return int(onnx.TensorProto.FLOAT)


def _quantized_op_count(path: Path) -> int:
    import onnx

    return sum(n.op_type in QUANT_OPS for n in onnx.load(str(path)).graph.node)


@dataclass
class QuantizeReport:
    src: str
    dst: str
    mode: str                  # "static" or "dynamic"
    src_bytes: int
    dst_bytes: int
    samples: int               # rows of calibration data compared
    agreement: float           # 0..1 on the calibration data
    max_abs_error: float       # over float outputs
    compared_output: str
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.dst_bytes / self.src_bytes if self.src_bytes else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": round(self.ratio, 4)}


def _session(path: Path, threads: int = 2) -> Any:
    from labkit.models.runtime import OnnxModel

    return OnnxModel(path, threads=threads, name=path.stem)


def has_conv(path: Path) -> bool:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    ops = {n.op_type for n in model.graph.node}
    for fn in model.functions:
        ops |= {n.op_type for n in fn.node}
    return bool(ops & CONV_OPS)


def load_calibration(folder: Path, input_names: list[str], batch_fixed: Mapping[str, bool]
                     ) -> list[dict[str, np.ndarray]]:
    """Feeds from the .npy/.npz files in `folder` (sorted by name)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"calibration folder {folder} does not exist", code="bad_calibration",
                         fix="give a folder of .npy/.npz input arrays")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".npy", ".npz"))
    if not files:
        raise ModelError(f"{folder} has no .npy or .npz files", code="bad_calibration",
                         fix="save model inputs with numpy.save / numpy.savez")
    feeds: list[dict[str, np.ndarray]] = []
    for p in files:
        try:
            if p.suffix == ".npy":
                if len(input_names) != 1:
                    raise ModelError(f"{p.name}: the model has {len(input_names)} inputs, so "
                                     "calibration files must be .npz keyed by input name",
                                     code="bad_calibration", fix="use numpy.savez(name=array)")
                arrays = {input_names[0]: np.load(p, allow_pickle=False)}
            else:
                with np.load(p, allow_pickle=False) as npz:
                    arrays = {k: npz[k] for k in npz.files}
        except (ValueError, OSError) as exc:
            raise ModelError(f"{p.name} is not a readable numpy file ({exc})",
                             code="bad_calibration", fix="save it with numpy.save") from None
        missing = [n for n in input_names if n not in arrays]
        if missing:
            raise ModelError(f"{p.name} lacks input(s) {', '.join(missing)}",
                             code="bad_calibration", fix="key .npz arrays by input name")
        arrays = {n: arrays[n] for n in input_names}
        rows = {len(a) for n, a in arrays.items() if batch_fixed.get(n) and a.ndim > 0}
        if rows and max(rows) > 1:
            count = min(len(a) for a in arrays.values())
            for i in range(count):
                feeds.append({n: a[i:i + 1] for n, a in arrays.items()})
        else:
            feeds.append(arrays)
        if len(feeds) >= MAX_CALIBRATION_FEEDS:
            break
    return feeds[:MAX_CALIBRATION_FEEDS]


class _Reader:
    """onnxruntime.quantization CalibrationDataReader over prepared feeds."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]) -> None:
        self.feeds = feeds
        self._it: Iterator[dict[str, np.ndarray]] = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)

    def rewind(self) -> None:
        self._it = iter(self.feeds)


def _comparable(outputs: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: v for k, v in outputs.items() if isinstance(v, np.ndarray)}


def _rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x.reshape(x.shape[0] if x.ndim else 1, -1)


def agreement(float_runs: list[dict[str, np.ndarray]], int8_runs: list[dict[str, np.ndarray]]
              ) -> tuple[float, float, str, int]:
    """How often the two models give the same answer, the worst float error, which output,
    and over how many samples (rows)."""
    if not float_runs:
        return 0.0, 0.0, "", 0
    names = list(_comparable(float_runs[0]))
    if not names:
        raise ModelError("the model has no tensor outputs to compare", code="bad_model",
                         fix="export the model with tensor outputs (skl2onnx: zipmap=False)")
    # Prefer an integer label output; else the first float output.
    ints = [n for n in names if np.issubdtype(float_runs[0][n].dtype, np.integer)]
    key = ints[0] if ints else names[0]
    a = np.concatenate([_rows(r[key]) for r in float_runs])
    b = np.concatenate([_rows(r[key]) for r in int8_runs])
    if np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
        agree = float(np.mean(np.all(a == b, axis=1)))
    elif a.shape[1] > 1:
        agree = float(np.mean(a.argmax(axis=1) == b.argmax(axis=1)))
    else:
        span = float(a.max() - a.min()) or 1.0
        agree = float(np.mean(np.abs(a - b).max(axis=1) <= 0.01 * span))
    err = 0.0
    for n in names:
        if np.issubdtype(float_runs[0][n].dtype, np.floating):
            for x, y in zip(float_runs, int8_runs, strict=True):
                diff = np.abs(x[n].astype(np.float64) - y[n].astype(np.float64))
                err = max(err, float(diff.max()) if diff.size else 0.0)
    return agree, err, key, int(a.shape[0])


def quantize_onnx(src: str | Path, dst: str | Path, calib: Path | Iterable[Mapping[str, Any]],
                  *, mode: str = "auto", per_channel: bool = True, reduce_range: bool = True,
                  threads: int = 2, keep_float_prefix: str | None = None) -> QuantizeReport:
    """Quantize `src` to int8 at `dst` (static QDQ if it has convolutions, else dynamic).

    `calib` is a folder of .npy/.npz files or an iterable of feed dicts. `reduce_range` keeps
    weights to 7 bits so the model computes the same on every CPU (see the module docstring);
    turn it off only for a model that will run on VNNI or ARM CPUs alone. The written file is
    checked: it must load in ONNX Runtime, and its agreement with the float model on the
    calibration feeds is reported. Nodes whose name starts with `keep_float_prefix` stay
    float (e.g. a small classifier merged behind a convolutional front end, whose skl2onnx
    activations the static calibrator cannot augment).
    """
    from labkit.models.runtime import onnxruntime_module

    onnxruntime_module()        # its calibration sessions: telemetry off first
    from onnxruntime import quantization as q

    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise ModelError(f"{src} does not exist", code="bad_input", fix="give an .onnx file")
    float_model = _session(src, threads)
    if isinstance(calib, (str, Path)):
        fixed = {t.name: (len(t.shape) > 0 and t.shape[0] == 1) for t in float_model.inputs}
        feeds = load_calibration(Path(calib), float_model.input_names, fixed)
    else:
        feeds = [dict(f) for f in calib]
    if not feeds:
        raise ModelError("no calibration data", code="bad_calibration",
                         fix="give at least one input sample")
    try:
        float_runs = [_comparable(float_model.run(f)) for f in feeds]
    except ModelError as exc:
        raise ModelError(f"calibration data does not fit the model: {exc.message}",
                         code="bad_calibration", fix=exc.fix) from None
    if mode == "auto":
        mode = "static" if has_conv(src) else "dynamic"
    if mode not in ("static", "dynamic"):
        raise ModelError(f"unknown quantization mode {mode!r}", code="bad_input",
                         fix="use auto, static or dynamic")
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dst.parent, prefix=".quant-") as tmp:
        base = _with_default_opset(src, Path(tmp) / "opset.onnx")
        prepped = Path(tmp) / "prepped.onnx"
        try:
            from onnxruntime.quantization.shape_inference import quant_pre_process

            quant_pre_process(str(base), str(prepped), skip_symbolic_shape=True)
        except Exception as exc:  # pre-processing is an optimisation; fall back to the source
            log.info("quant_pre_process skipped for %s: %s", src.name, exc)
            prepped = base
        out = Path(tmp) / "int8.onnx"
        try:
            with _quiet_root_logger():
                exclude = []
                if keep_float_prefix:
                    import onnx

                    exclude = [n.name for n in onnx.load(str(prepped)).graph.node
                               if n.name.startswith(keep_float_prefix)]
                if mode == "static":
                    q.quantize_static(str(prepped), str(out), _Reader(feeds),
                                      nodes_to_exclude=exclude,
                                      quant_format=q.QuantFormat.QDQ,
                                      activation_type=q.QuantType.QInt8,
                                      weight_type=q.QuantType.QInt8, per_channel=per_channel,
                                      reduce_range=reduce_range,
                                      calibrate_method=q.CalibrationMethod.MinMax)
                else:
                    q.quantize_dynamic(str(prepped), str(out), weight_type=q.QuantType.QInt8,
                                       per_channel=per_channel, reduce_range=reduce_range,
                                       nodes_to_exclude=exclude,
                                       # skl2onnx MLPs carry ONNX-ML ops shape inference
                                       # cannot type; their tensors are float
                                       extra_options={"DefaultTensorType": _float_type()})
        except Exception as exc:
            raise ModelError(f"onnxruntime could not quantize {src.name}: {exc}",
                             code="quantize_failed",
                             fix="try --mode dynamic, or check the calibration data") from None
        int8_model = _session(out, threads)
        int8_runs = [_comparable(int8_model.run(f)) for f in feeds]
        agree, err, key, rows = agreement(float_runs, int8_runs)
        note = ("" if _quantized_op_count(out) else "no operator could be quantized (ONNX-ML "
                "operators such as LinearClassifier stay float); the model is unchanged")
        out.replace(dst)
    return QuantizeReport(src=str(src), dst=str(dst), mode=mode, src_bytes=src.stat().st_size,
                          dst_bytes=dst.stat().st_size, samples=rows, agreement=agree,
                          max_abs_error=err, compared_output=key, note=note)
