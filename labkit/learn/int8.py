"""The int8 copy of an image project's model, put together in seconds from kept parts.

Why: quantising a project's whole merged graph (EfficientNet-Lite0 + classifier) with a static
calibration pass costs half a minute on a Pi, and almost all of that work is the embedder,
which is the same for every project of the kit. So the embedder is quantised once per kit — the
model store's `efficientnet_lite0_features_int8` when it was built from the very float embedder
the project was trained with, else a copy quantised here once and kept next to the store
(`<models>/.derived/`) — and a project's int8 model is that int8 embedder merged in front of the
project's own float classifier (a few kB of weights; its skl2onnx operators stay float anyway).
Nothing project-specific needs calibrating.

The accuracy kept on the card is measured on the int8 embedder itself: the held-out classifier
(fitted on the training split only, kept at training) answers on the int8 features of the
held-out samples, which were split off before any augmentation. Agreement with the float model
is counted on those same samples, from the float features the kit stored when they were saved.

The kept parts, beside the float model (sealed like it, labkit.atrest):
    <project>/model/classifier.onnx          the kept classifier over features
    <project>/model/classifier_heldout.onnx  the same fitted on the training split only

A cached int8 embedder is keyed by the sha256 of the float embedder it was made from and by
the recipe below; a file that does not match its recorded hash, or that ONNX Runtime will not
load, is thrown away and made again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _
from labkit.learn.features import EMBEDDER_MODEL, EMBEDDER_MODEL_INT8, EmbeddingExtractor

log = logging.getLogger(__name__)

CLASSIFIER_FILE = "classifier.onnx"
HELD_OUT_FILE = "classifier_heldout.onnx"
#: how a cached int8 embedder was made; a change here makes every cached copy stale
RECIPE = "quantize_onnx static QDQ minmax reduce_range, 48 generated images/1"
DERIVED_DIR = ".derived"
#: fewer held-out samples than this: "too few samples to measure" (as labkit.learn.quantlab)
MIN_TEST_SAMPLES = 8
#: the merged int8 graph must answer like its parts run one after the other
END_TO_END_TOLERANCE = 1e-3


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Int8Embedder:
    """An int8 embedder graph and where it came from ("store", "cache" or "built")."""

    data: bytes
    origin: str


def _derived_from(float_entry: Any, int8_entry: Any) -> bool:
    """Whether the store's int8 embedder was quantised from the store's float one."""
    extra = int8_entry.extra or {}
    if extra.get("quantized_from_sha256"):
        return extra["quantized_from_sha256"] == float_entry.sha256
    same = ("package", "version", "archive_sha256")
    return (extra.get("quantized_from") == EMBEDDER_MODEL
            and all(float_entry.source.get(k) == int8_entry.source.get(k) for k in same))


def _from_store(store: Any, sha: str) -> bytes | None:
    try:
        if not (store.has(EMBEDDER_MODEL) and store.has(EMBEDDER_MODEL_INT8)):
            return None
        f, q = store.info(EMBEDDER_MODEL), store.info(EMBEDDER_MODEL_INT8)
        if f.sha256 != sha or not _derived_from(f, q):
            return None
        return Path(store.path(EMBEDDER_MODEL_INT8)).read_bytes()   # re-hashed by the store
    except (LabkitError, OSError) as exc:
        log.warning("the model store's int8 embedder is unusable: %s", exc)
        return None


def _cache_paths(cache_dir: Path, sha: str) -> tuple[Path, Path]:
    stem = f"{EMBEDDER_MODEL_INT8}-{sha[:32]}"
    return cache_dir / f"{stem}.onnx", cache_dir / f"{stem}.json"


def _loads(data: bytes) -> bool:
    from labkit.models.runtime import onnx_session

    try:
        onnx_session(data, threads=1)
    except Exception:  # any ONNX Runtime failure means the file is no good
        return False
    return True


def read_cached(cache_dir: Path, sha: str) -> bytes | None:
    """The cached int8 embedder made from the float embedder `sha`, or None (a stale or
    damaged copy is removed so that it is made again)."""
    path, meta_path = _cache_paths(cache_dir, sha)
    if not path.exists() and not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        data = path.read_bytes()
        good = (isinstance(meta, dict) and meta.get("float_sha256") == sha
                and meta.get("recipe") == RECIPE and meta.get("sha256") == sha256_bytes(data)
                and _loads(data))
    except (OSError, ValueError):
        good = False
    if good:
        return data
    log.warning("cached int8 embedder %s is stale or damaged: making it again", path.name)
    path.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    return None


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_cached(cache_dir: Path, float_bytes: bytes, *, threads: int = 2) -> bytes:
    """Quantise a float embedder (static, calibrated on generated pictures, as the model
    store's builder does) and keep the result in `cache_dir`."""
    from labkit.models.efficientnet import _image_calibration
    from labkit.models.quantize import quantize_onnx

    sha = sha256_bytes(float_bytes)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".int8-build-") as tmp:
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(float_bytes)
        quantize_onnx(src, dst, _image_calibration(), mode="static", threads=threads)
        data = dst.read_bytes()
    path, meta_path = _cache_paths(cache_dir, sha)
    _atomic_write(path, data)
    _atomic_write(meta_path, json.dumps({"float_sha256": sha, "recipe": RECIPE,
                                         "sha256": sha256_bytes(data)}).encode("utf-8"))
    return data


def default_cache_dir(store: Any) -> Path | None:
    models_dir = getattr(store, "models_dir", None)
    return Path(models_dir) / DERIVED_DIR if models_dir is not None else None


def int8_embedder(sha: str, *, store: Any = None, cache_dir: Path | None = None,
                  float_front: Callable[[], bytes] | None = None,
                  threads: int = 2) -> Int8Embedder | None:
    """The int8 embedder for the float embedder whose sha256 is `sha`: the store's, a cached
    copy, or (given `float_front`, which returns that float graph) one made now and cached.
    None when there is no way to have one (then the caller quantises the whole model)."""
    if store is not None:
        data = _from_store(store, sha)
        if data is not None:
            return Int8Embedder(data, "store")
    cache_dir = cache_dir or default_cache_dir(store)
    if cache_dir is None:
        return None
    data = read_cached(cache_dir, sha)
    if data is not None:
        return Int8Embedder(data, "cache")
    if float_front is None:
        return None
    front = float_front()
    if sha256_bytes(front) != sha:
        return None
    try:
        return Int8Embedder(build_cached(cache_dir, front, threads=threads), "built")
    except OSError as exc:      # a read-only models folder: the caller falls back
        log.warning("could not keep an int8 embedder in %s: %s", cache_dir, exc)
        return None


def front_of(merged: bytes) -> bytes:
    """The embedder part of a merged graph (everything before the `clf_` classifier)."""
    import onnx
    from onnx.utils import Extractor

    from labkit.models.efficientnet import INPUT_NAME, OUTPUT_NAME

    model = onnx.load_model_from_string(merged)
    front = Extractor(model).extract_model([INPUT_NAME], [OUTPUT_NAME])
    del front.metadata_props[:]
    return front.SerializeToString()


# ---------------------------------------------------------------------------------------------
# the project's int8 model
# ---------------------------------------------------------------------------------------------

def _held_out_samples(project: Any, test_ids: list[str]) -> tuple[list[Any], list[str]]:
    wanted = set(test_ids)
    payloads, labels = [], []
    with project.lock:
        items = [(i, s) for i, s in project.iter_samples() if s.id in wanted]
    for info, sample in items:
        try:
            payloads.append(project.read_sample(info, sample))
        except LabkitError:
            continue
        labels.append(info.name)
    return payloads, labels


def _stored_float_rows(project: Any, payloads: list[Any], dim: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(index of samples with stored float features, their rows): nothing is re-embedded."""
    from labkit.learn.featurecache import FeatureCache, payload_key

    cache = FeatureCache(project.root, EmbeddingExtractor.name, project.sealer)
    idx, rows = [], []
    for i, p in enumerate(payloads):
        row = cache.get(payload_key(p), dim)
        if row is not None:
            idx.append(i)
            rows.append(row)
    return np.asarray(idx, np.int64), (np.stack(rows) if rows else np.zeros((0, dim), np.float32))


def image_int8(project: Any, card: dict[str, Any], *, store: Any = None,
               cache_dir: Path | None = None, threads: int = 2
               ) -> tuple[bytes, dict[str, Any]] | None:
    """(int8 graph, card entry) for a merged image model, or None when its parts are missing
    (a model trained before they were kept, no int8 embedder to be had)."""
    from labkit.learn.model import _merge_front, model_dir, read_graph
    from labkit.models.efficientnet import preprocess
    from labkit.models.trainable import OnnxClassifier

    folder = model_dir(project)
    inp = card.get("input") or {}
    sha = inp.get("sha256")
    if inp.get("type") != "image" or not sha or not (folder / CLASSIFIER_FILE).exists():
        return None
    embedder = int8_embedder(sha, store=store, cache_dir=cache_dir, threads=threads,
                             float_front=lambda: front_of(read_graph(project)))
    if embedder is None:
        return None
    classes = list(card["classes"])
    kept_bytes = project.sealer.read(folder / CLASSIFIER_FILE)
    graph = _merge_front(embedder.data, kept_bytes)
    kept = OnnxClassifier(kept_bytes, classes)
    test_ids = list(((project.model or {}).get("report") or {}).get("test_samples") or [])
    payloads, labels = _held_out_samples(project, test_ids)
    q_ext = EmbeddingExtractor(embedder.data, threads=threads, model_name=EMBEDDER_MODEL_INT8)
    q_rows = q_ext.extract(payloads) if payloads else np.zeros((0, q_ext.dim), np.float32)
    if payloads:
        # the merged file must answer like the int8 embedder + classifier run one by one
        few = min(2, len(payloads))
        whole = OnnxClassifier(graph, classes).predict_proba(preprocess(payloads[:few]))
        if np.abs(whole - kept.predict_proba(q_rows[:few])).max() > END_TO_END_TOLERANCE:
            raise LabkitError(_("The int8 model does not match its parts."),
                              code="export_failed",
                              fix=_("Train again; if it persists, tell the teacher."))
    truth = np.array([classes.index(lbl) for lbl in labels], np.int64)
    int8_acc = None
    if (folder / HELD_OUT_FILE).exists() and len(truth) >= MIN_TEST_SAMPLES:
        held = OnnxClassifier(project.sealer.read(folder / HELD_OUT_FILE), classes)
        int8_acc = round(float((held.predict_proba(q_rows).argmax(1) == truth).mean()), 4)
    idx, f_rows = _stored_float_rows(project, payloads, q_ext.dim)
    agreement = None
    if len(idx):
        same = kept.predict_proba(f_rows).argmax(1) == kept.predict_proba(q_rows[idx]).argmax(1)
        agreement = round(float(same.mean()), 4)
    info = {"mode": "static", "method": "int8 embedder + float classifier",
            "embedder": embedder.origin, "bytes": len(graph),
            "float_bytes": len(read_graph(project)),
            "float_accuracy": card.get("accuracy"), "int8_accuracy": int8_acc,
            "n_test": int(len(truth)), "agreement": agreement, "n": int(len(idx))}
    return graph, info


def keep_parts(project: Any, clf: Any, clf_onnx: bytes) -> None:
    """At training: keep the classifier and its held-out twin for `image_int8`."""
    import dataclasses

    from labkit.learn.model import model_dir

    folder = model_dir(project)
    project.sealer.write(folder / CLASSIFIER_FILE, clf_onnx)
    if clf.held_out_pipeline is not None:
        held = dataclasses.replace(clf, pipeline=clf.held_out_pipeline)
        project.sealer.write(folder / HELD_OUT_FILE, held.to_onnx(doc="held-out twin"))
    else:
        (folder / HELD_OUT_FILE).unlink(missing_ok=True)


def drop_parts(project: Any) -> None:
    from labkit.learn.model import model_dir

    for name in (CLASSIFIER_FILE, HELD_OUT_FILE):
        (model_dir(project) / name).unlink(missing_ok=True)
