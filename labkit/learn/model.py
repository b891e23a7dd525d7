"""Train a project's classifier, keep it as ONNX, predict with it, export and import it.

One path for everything after training: the trained model is saved as ONNX and live
prediction runs that very file, so what the student tries on the page is exactly what they
export. For image projects with the embedder, the exported graph is *one* ONNX model —
EfficientNet-Lite0 features merged in front of the classifier (input `image`, RGB 0..1 NCHW
224×224) — so another kit needs nothing else to run it. Other kinds export the classifier over
features (input `features`); the card names the feature extractor the runtime chains in front.

    <project>/model/model.onnx        float model (see above)
    <project>/model/model_int8.onnx   int8 copy, made on export (labkit.learn.int8)
    <project>/model/classifier*.onnx  image models: the classifier alone and its held-out
                                      twin, from which the int8 copy is put together
    <project>/model/labels.json       class names in output order
    <project>/model/card.json         model card: classes, sample counts, accuracy, date …

An exported zip holds those four files. Import checks everything before it keeps anything:
zip members, card schema, labels vs the graph's outputs, that ONNX Runtime loads the graph and
answers a test input with the declared shape, and that the feature extractor is known here.
The graph itself is vetted by labkit.models.vetting (no external data, allowed operators only,
loaded and run first in a child process with CPU, memory and time limits).
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from labkit import jsoncheck
from labkit.atrest import SealBroken
from labkit.errors import LabkitError, Text
from labkit.errors import lazy_gettext as _
from labkit.learn import int8 as int8_parts
from labkit.learn.dataset import KINDS, Project, ProjectStore, read_json, write_json
from labkit.learn.features import EmbeddingExtractor, Extractor, extractor_by_name
from labkit.learn.names import check_class_names
from labkit.models.trainable import (CLASSES_METADATA_KEY, ONNX_INPUT, ONNX_PROBABILITIES,
                                     OnnxClassifier, check_class_counts, train_classifier)
from labkit.models.vetting import LEARN_LIMITS, VettedModel, vet_model
from labkit.packs.archive import ArchiveLimits, ArchiveRefused, StrictArchive

log = logging.getLogger(__name__)

CARD_FORMAT = "labkit-model-card/1"
EXPORT_FORMAT = "labkit-model-export/1"
MODEL_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
LABELS_FILE = "labels.json"
CARD_FILE = "card.json"
MAX_IMPORT_BYTES = 60 * 1024 * 1024
EXTRACT_BATCH = 16

Progress = Callable[[str, float, str], None]


@dataclass
class TrainReport:
    """What the page shows after training (all JSON-able through `to_json`)."""

    card: dict[str, Any]
    confusion: list[list[int]]
    misclassified: list[dict[str, Any]]
    skipped: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    test_samples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"card": self.card, "confusion": self.confusion,
                "misclassified": self.misclassified, "skipped": self.skipped,
                "timings": self.timings, "test_samples": self.test_samples}


def model_dir(project: Project) -> Path:
    return project.root / "model"


def write_graph(project: Project, data: bytes, *, int8: bool = False) -> Path:
    """Keep a trained graph, sealed with the kit's data key (labkit.atrest)."""
    return project.sealer.write(model_dir(project) / (INT8_FILE if int8 else MODEL_FILE), data)


def read_graph(project: Project, *, int8: bool = False) -> bytes:
    """A kept graph's bytes, opened in memory (a clear file from an older kit is read as is).

    OSError if it is missing; LabkitError if it does not open with this kit's key.
    """
    path = model_dir(project) / (INT8_FILE if int8 else MODEL_FILE)
    try:
        return project.sealer.read(path)
    except SealBroken:
        raise LabkitError(_("The trained model of this project is damaged."), code="bad_model",
                          fix=_("Press Train again.")) from None


# ---------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------

def load_samples(project: Project, progress: Progress | None = None
                 ) -> tuple[list[Any], list[str], list[str], list[dict[str, str]]]:
    """Every readable sample: payloads, class names, sample ids, and the ones skipped (why)."""
    payloads, labels, ids, skipped = [], [], [], []
    items = list(project.iter_samples())
    for n, (info, sample) in enumerate(items):
        try:
            payloads.append(project.read_sample(info, sample))
        except LabkitError as exc:
            skipped.append({"sample": sample.id, "class": info.name, "reason": exc.message})
            continue
        labels.append(info.name)
        ids.append(sample.id)
        if progress and n % 25 == 0:
            progress("load", 0.05 + 0.15 * n / max(1, len(items)), "")
    return payloads, labels, ids, skipped


def extract_all(extractor: Extractor, payloads: Sequence[Any],
                progress: Progress | None = None) -> np.ndarray:
    rows = []
    for start in range(0, len(payloads), EXTRACT_BATCH):
        rows.append(extractor.extract(payloads[start:start + EXTRACT_BATCH]))
        if progress:
            done = min(len(payloads), start + EXTRACT_BATCH)
            progress("features", 0.2 + 0.6 * done / max(1, len(payloads)), "")
    if not rows:
        return np.zeros((0, extractor.dim), np.float32)
    return np.concatenate(rows)


def _merge_front(front: bytes, classifier: bytes) -> bytes:
    """Feature graph + classifier graph → one graph (input of `front`, outputs of classifier)."""
    import onnx
    from onnx import compose

    a = onnx.load_model_from_string(front)
    b = onnx.load_model_from_string(classifier)
    a.ir_version = b.ir_version = max(a.ir_version, b.ir_version)
    # merge_models wants one version per domain in both (a quantised front lists more domains,
    # and a newer ai.onnx.ml, than skl2onnx writes)
    best: dict[str, int] = {}
    for op in [*a.opset_import, *b.opset_import]:
        best[op.domain] = max(best.get(op.domain, 0), op.version)
    for m in (a, b):
        del m.opset_import[:]
        m.opset_import.extend(onnx.helper.make_opsetid(d, v) for d, v in best.items())
    front_out = a.graph.output[0].name
    merged = compose.merge_models(a, b, io_map=[(front_out, ONNX_INPUT)], prefix2="clf_")
    # the classifier's outputs keep their public names
    for out in merged.graph.output:
        if out.name.startswith("clf_"):
            new = out.name[len("clf_"):]
            for node in merged.graph.node:   # its producer and any node that reads it
                node.output[:] = [new if o == out.name else o for o in node.output]
                node.input[:] = [new if i == out.name else i for i in node.input]
            out.name = new
    del merged.opset_import[:]
    for domain, version in best.items():
        merged.opset_import.append(onnx.helper.make_opsetid(domain, version))
    del merged.metadata_props[:]
    for prop in b.metadata_props:
        merged.metadata_props.append(prop)
    onnx.checker.check_model(merged)
    return merged.SerializeToString()


def graph_feed(extractor: Extractor, payloads: Sequence[Any]) -> np.ndarray:
    """The exported graph's input for raw samples: images for a merged graph, else features."""
    if extractor.graph_input == "image":
        from labkit.models.efficientnet import preprocess

        return preprocess(payloads)
    return extractor.extract(payloads)


def train_project(project: Project, extractor: Extractor, *, classifier: str = "logistic",
                  seed: int = 0, progress: Progress | None = None) -> TrainReport:
    """Load → features → fit/evaluate → ONNX → save. Raises LabkitError for bad datasets."""
    report = progress or (lambda stage, frac, msg: None)
    t0 = time.perf_counter()
    with project.lock:
        counts = project.counts()
        kind = project.kind
    check_class_counts(counts)
    report("load", 0.02, "")
    payloads, labels, ids, skipped = load_samples(project, report)
    t_load = time.perf_counter()
    X = extract_all(extractor, payloads, report)
    t_feat = time.perf_counter()
    good = np.isfinite(X).all(axis=1)
    for i in np.flatnonzero(~good):
        reason = (_("no hand was found in the picture") if kind == "hand" else
                  _("no body was found in the picture") if kind == "pose" else
                  _("the sample could not be measured"))
        skipped.append({"sample": ids[i], "class": labels[i], "reason": str(reason)})
    keep = np.flatnonzero(good)
    X = X[keep]
    labels = [labels[i] for i in keep]
    ids = [ids[i] for i in keep]
    payloads = [payloads[i] for i in keep]
    usable = {name: labels.count(name) for name in counts}
    check_class_counts(usable)
    report("fit", 0.82, "")
    with project.lock:
        group_of = {sample.id: sample.group for _info, sample in project.iter_samples()}
    groups = [group_of.get(i, i) for i in ids]
    augment = extractor.augmenter(payloads, labels, seed=seed)
    clf = train_classifier(X, labels, kind=classifier, seed=seed, groups=groups,
                           augment=augment)
    t_fit = time.perf_counter()
    report("export", 0.9, "")
    clf_onnx = clf.to_onnx()
    merged = extractor.graph_input == "image" and isinstance(extractor, EmbeddingExtractor)
    graph = _merge_front(extractor.onnx_bytes, clf_onnx) if merged else clf_onnx
    # check the ONNX classifier against the in-memory model on every sample, and the saved
    # (possibly merged) graph on a few of them end to end. Both are the kept model, trained on
    # all samples: this is agreement, not accuracy (accuracy is the held-out figure)
    test = clf.test_indices
    onnx_proba = OnnxClassifier(clf_onnx, clf.classes).predict_proba(X)
    mem_proba = clf.predict_proba(X)
    agreement = float((onnx_proba.argmax(1) == mem_proba.argmax(1)).mean())
    if graph is not clf_onnx:
        few = np.arange(min(4, len(X)))
        end_to_end = OnnxClassifier(graph, clf.classes).predict_proba(
            graph_feed(extractor, [payloads[i] for i in few]))
        if np.abs(end_to_end - mem_proba[:len(few)]).max() > 1e-3:
            raise LabkitError(_("The exported model does not match the trained one."),
                              code="export_failed", fix=_("Train again; if it persists, "
                                                          "tell the teacher."))
    t_end = time.perf_counter()

    card = clf.model_card(
        format=CARD_FORMAT, name=project.name, kind=kind,
        input={"type": "image" if extractor.graph_input == "image" else "features",
               **extractor.describe()},
        onnx_agreement=round(agreement, 4),
        skipped=len(skipped), int8=None)
    if merged:
        # which float embedder is inside the graph: its int8 twin is found by this hash
        card["input"]["sha256"] = extractor.sha256
    card["onnx"]["input"] = "image" if extractor.graph_input == "image" else ONNX_INPUT
    misclassified = [{**m, "sample": ids[m["index"]]} for m in clf.misclassified]
    timings = {"load_s": round(t_load - t0, 3), "features_s": round(t_feat - t_load, 3),
               "fit_s": round(t_fit - t_feat, 3), "export_s": round(t_end - t_fit, 3),
               "total_s": round(t_end - t0, 3),
               "per_sample_features_ms": round(1000 * (t_feat - t_load) / max(1, len(payloads)),
                                               2)}
    result = TrainReport(card=card, confusion=clf.confusion.tolist(),
                         misclassified=misclassified, skipped=skipped, timings=timings,
                         test_samples=[ids[i] for i in test])
    folder = model_dir(project)
    write_graph(project, graph)
    (folder / INT8_FILE).unlink(missing_ok=True)
    if merged:
        int8_parts.keep_parts(project, clf, clf_onnx)
    else:
        int8_parts.drop_parts(project)
    write_json(project.sealer, folder / LABELS_FILE, clf.classes)
    write_json(project.sealer, folder / CARD_FILE, card)
    with project.lock:
        project.model = {"trained_at": card["trained_at"], "accuracy": card["accuracy"],
                         "classifier": classifier, "extractor": extractor.name,
                         "classes": clf.classes, "outdated": False,
                         "report": result.to_json()}
        project.save()
    report("done", 1.0, "")
    return result


# ---------------------------------------------------------------------------------------------
# using a saved model
# ---------------------------------------------------------------------------------------------

class Predictor:
    """A saved model plus the feature step in front of it: `predict(payload) -> {class: p}`."""

    def __init__(self, project: Project | None, *, store: Any = None, tracker: Any = None,
                 int8: bool = False, card: dict[str, Any] | None = None,
                 graph: bytes | None = None) -> None:
        if project is not None:
            folder = model_dir(project)
            try:
                card = read_json(project.sealer, folder / CARD_FILE)
                graph = read_graph(project, int8=int8)
            except (OSError, ValueError):
                raise LabkitError(_("This project has no trained model yet."),
                                  code="not_trained", fix=_("Press Train first.")) from None
        assert card is not None and graph is not None, "a project, or a card and its graph"
        self.card = card
        self.classes = list(self.card["classes"])
        self.runner = OnnxClassifier(graph, self.classes)
        inp = self.card.get("input", {})
        self.graph_input = inp.get("type", "features")
        self.extractor: Extractor | None = None
        if self.graph_input != "image":
            self.extractor = extractor_by_name(inp.get("name", ""), store=store,
                                               channels=inp.get("channels") or
                                               ("distance", "light"), tracker=tracker)

    def feed(self, payloads: Sequence[Any]) -> np.ndarray:
        if self.graph_input == "image":
            from labkit.models.efficientnet import preprocess

            return preprocess(payloads)
        assert self.extractor is not None
        return self.extractor.extract(payloads)

    def predict_proba(self, payloads: Sequence[Any]) -> np.ndarray:
        x = self.feed(payloads)
        out = np.full((len(payloads), len(self.classes)), np.nan)
        ok = np.isfinite(x).all(axis=1) if x.ndim == 2 else np.ones(len(payloads), bool)
        if ok.any():
            out[ok] = self.runner.predict_proba(x[ok])
        return out

    def predict(self, payload: Any) -> dict[str, Any]:
        """One sample → {"label", "confidence", "probabilities": {class: p}} (label None if the
        sample could not be measured, e.g. no hand in view)."""
        proba = self.predict_proba([payload])[0]
        if not np.isfinite(proba).all():
            return {"label": None, "confidence": 0.0,
                    "probabilities": {c: 0.0 for c in self.classes}}
        best = int(proba.argmax())
        return {"label": self.classes[best], "confidence": round(float(proba[best]), 4),
                "probabilities": {c: round(float(p), 4) for c, p in zip(self.classes, proba, strict=True)}}


# ---------------------------------------------------------------------------------------------
# int8, export, import
# ---------------------------------------------------------------------------------------------

def make_int8(project: Project, *, store: Any = None, tracker: Any = None,
              calib_samples: int = 24, threads: int = 2, parts: bool = True) -> dict[str, Any]:
    """The int8 copy of the saved model, and how it measures. Idempotent.

    An image model whose parts were kept at training is put together from the kit's int8
    embedder and its float classifier in seconds (labkit.learn.int8), its accuracy measured on
    the held-out samples. Any other model (or `parts=False`) is quantised whole
    (labkit.models.quantize), calibrated on the project's own samples, and compared with the
    float model."""
    from labkit.models.quantize import quantize_onnx

    folder = model_dir(project)
    card = read_card(project)
    if card.get("int8") and (folder / INT8_FILE).exists():
        return card["int8"]
    report_json = (project.model or {}).get("report") or {}
    if not project.model or project.model.get("outdated") or not report_json:
        raise LabkitError(_("Train the model again before exporting: the samples changed."),
                          code="not_trained", fix=_("Press Train first."))
    # an image model with its kept parts: the kit's int8 embedder + the float classifier
    fast = int8_parts.image_int8(project, card, store=store, threads=threads) if parts else None
    if fast is not None:
        data, info = fast
        write_graph(project, data, int8=True)
        card["int8"] = info
        write_json(project.sealer, folder / CARD_FILE, card)
        return info
    predictor = Predictor(project, store=store, tracker=tracker)
    payloads, labels, sample_ids, _skipped = load_samples(project)
    if not payloads:
        raise LabkitError(_("The project has no samples to check the int8 model with."),
                          code="too_few_samples", fix=_("Record samples and train again."))
    rng = np.random.default_rng(0)
    order = rng.permutation(len(payloads))
    feeds_x = predictor.feed([payloads[i] for i in order[:calib_samples]])
    feeds_x = feeds_x[np.isfinite(feeds_x.reshape(len(feeds_x), -1)).all(axis=1)]
    input_name = predictor.runner.input_name
    feeds = [{input_name: feeds_x[i:i + 1]} for i in range(len(feeds_x))]
    float_graph = read_graph(project)
    # the quantiser reads and writes files: it works on a clear copy in a scratch folder that
    # lives seconds (and that the start-up tidy removes if the job died, labkit/datadir.py)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".int8-") as tmp:
        src, dst = Path(tmp) / MODEL_FILE, Path(tmp) / INT8_FILE
        src.write_bytes(float_graph)
        # the merged classifier (nodes "clf_…") stays float: it is tiny, and the static
        # calibrator cannot augment every skl2onnx activation (an MLP's out_activations)
        q = quantize_onnx(src, dst, feeds, threads=threads, keep_float_prefix="clf_")
        data = dst.read_bytes()
    int8_runner = OnnxClassifier(data, predictor.classes)
    # The kept float model was trained on every sample, so no sample is held out from it:
    # what can be measured honestly is how often int8 answers like float. Wherever they agree
    # int8 is right exactly when float is, so int8's held-out accuracy is at least the float
    # held-out accuracy minus the share of disagreements.
    x_all = predictor.feed(payloads)
    ok = np.isfinite(x_all.reshape(len(x_all), -1)).all(axis=1)
    idx = np.flatnonzero(ok)
    f_pred = predictor.runner.predict_proba(x_all[idx]).argmax(1)
    q_pred = int8_runner.predict_proba(x_all[idx]).argmax(1)
    agreement = float((f_pred == q_pred).mean()) if len(idx) else 0.0
    float_acc = card.get("accuracy")
    info = {"mode": q.mode, "bytes": len(data), "float_bytes": len(float_graph),
            "agreement": round(agreement, 4), "n": int(len(idx)),
            "float_accuracy": float_acc,
            "int8_accuracy_at_least": (None if float_acc is None
                                       else round(max(0.0, float_acc - (1.0 - agreement)), 4))}
    write_graph(project, data, int8=True)
    card["int8"] = info
    write_json(project.sealer, folder / CARD_FILE, card)
    return info


def read_card(project: Project) -> dict[str, Any]:
    """The trained model's card (sealed at rest, like the graph)."""
    try:
        return read_json(project.sealer, model_dir(project) / CARD_FILE)
    except (OSError, ValueError):
        raise LabkitError(_("This project has no trained model yet."), code="not_trained",
                          fix=_("Press Train first.")) from None


def export_zip(project: Project, *, int8: bool = True, store: Any = None,
               tracker: Any = None) -> bytes:
    """model.onnx + model_int8.onnx + labels.json + card.json as one zip (in memory)."""
    folder = model_dir(project)
    if not project.model:
        raise LabkitError(_("This project has no trained model yet."), code="not_trained",
                          fix=_("Press Train first."))
    if project.model.get("outdated"):
        raise LabkitError(_("Train the model again before exporting: the samples changed."),
                          code="not_trained", fix=_("Press Train first."))
    if project.model.get("imported"):
        int8 = (folder / INT8_FILE).exists()     # pass on what was imported
    elif int8:
        make_int8(project, store=store, tracker=tracker)
    card = read_card(project)
    card["exported_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    card["export_format"] = EXPORT_FORMAT
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MODEL_FILE, read_graph(project))
        if int8:
            zf.writestr(INT8_FILE, read_graph(project, int8=True))
        zf.writestr(LABELS_FILE, json.dumps(card["classes"], ensure_ascii=False, indent=1))
        zf.writestr(CARD_FILE, json.dumps(card, ensure_ascii=False, indent=1))
    return buf.getvalue()


CARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "classes", "kind", "input", "accuracy", "trained_at",
                 "sample_counts"],
    "properties": {
        "format": {"const": CARD_FORMAT},
        "classes": {"type": "array", "minItems": 2, "maxItems": 6,
                    "items": {"type": "string"}},
        "kind": {"enum": list(KINDS)},
        "name": {"type": "string", "maxLength": 80},
        "input": {"type": "object", "required": ["type", "name"],
                  "properties": {"type": {"enum": ["image", "features"]},
                                 "name": {"type": "string"},
                                 "dim": {"type": "integer", "minimum": 1, "maximum": 20000},
                                 "channels": {"type": "array", "items": {"type": "string"}}}},
        # null: too few samples to measure (labkit.models.evaluation)
        "accuracy": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "sample_counts": {"type": "object"},
        "trained_at": {"type": "string"},
    },
}


def _bad_import(why: Text) -> LabkitError:
    return LabkitError(_("This file is not a model exported by a labkit kit (%(why)s).", why=why),
                       code="bad_model", fix=_("Export the model again on the other kit."))


def validate_export(data: bytes) -> tuple[dict[str, Any], bytes, bytes | None]:
    """Check an exported zip completely; returns (card, float graph, int8 graph or None)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise LabkitError(_("The model file is too large."), code="too_large",
                          fix=_("Export the model again on the other kit."))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _bad_import(_("not a zip file"))
    # the shared strict reader: no links, no `..`, no name twice, size and ratio capped
    try:
        zf = StrictArchive(data, ArchiveLimits(max_members=8, max_bytes=4 * MAX_IMPORT_BYTES))
    except ArchiveRefused as exc:
        if exc.code in ("pack_too_big", "archive_bomb"):
            raise _bad_import(_("it unpacks to too much data")) from None
        raise _bad_import(exc.message_text) from None
    with zf:
        try:
            return _validate_members(zf)
        except ArchiveRefused as exc:
            raise _bad_import(exc.message_text) from None


def _validate_members(zf: StrictArchive, *, others_checked: bool = False
                      ) -> tuple[dict[str, Any], bytes, bytes | None]:
    """The model files of an export. `others_checked`: the caller (labkit.learn.exchange)
    has accounted for the archive's other members (project manifest, samples, README)."""
    import jsonschema

    names = set(zf.members)
    allowed = {MODEL_FILE, INT8_FILE, LABELS_FILE, CARD_FILE}
    if not {MODEL_FILE, LABELS_FILE, CARD_FILE} <= names or (names - allowed
                                                             and not others_checked):
        raise _bad_import(_("it must hold model.onnx, labels.json and card.json only"))
    names &= allowed
    try:
        card = json.loads(zf.read(CARD_FILE).decode("utf-8"))
        labels = json.loads(zf.read(LABELS_FILE).decode("utf-8"))
        jsoncheck.validate(card, CARD_SCHEMA)
    except (UnicodeDecodeError, ValueError):
        raise _bad_import(_("card.json or labels.json is not JSON")) from None
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "card"
        raise _bad_import(_("card.json has a bad entry at %(where)s", where=where)) from None
    if labels != card["classes"]:
        raise _bad_import(_("labels.json does not match the card"))
    check_class_names(card["classes"])
    graphs = {}
    for member in (MODEL_FILE, INT8_FILE):
        if member not in names:
            continue
        blob = zf.read(member)
        # static checks, then load + one run on zeros in a limited child process: the graph
        # is never loaded in the server before it has passed both
        vetted = vet_model(blob, "onnx", limits=LEARN_LIMITS, must_run=True)
        _check_vetted(vetted, card)
        graphs[member] = blob
    return card, graphs[MODEL_FILE], graphs.get(INT8_FILE)


def _check_vetted(vetted: VettedModel, card: dict[str, Any]) -> None:
    """The vetted graph is a labkit classifier for this card: one input of the declared
    shape, a probabilities output with one column per class, the same class list."""
    outputs = {o["name"]: o for o in vetted.outputs}
    if len(vetted.inputs) != 1 or ONNX_PROBABILITIES not in outputs:
        raise _bad_import(_("it is not a labkit classifier"))
    meta_classes = vetted.metadata.get(CLASSES_METADATA_KEY)
    if meta_classes is not None:
        try:
            same = json.loads(meta_classes) == card["classes"]
        except ValueError:
            same = False
        if not same:
            raise _bad_import(_("the model's own class list differs from labels.json"))
    shape = vetted.inputs[0]["shape"]
    if card["input"]["type"] == "image":
        if list(shape[1:]) != [3, 224, 224]:
            raise _bad_import(_("the image model has an unexpected input shape"))
    else:
        n_features = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
        if n_features is None or card["input"].get("dim") != n_features:
            raise _bad_import(_("the feature size does not match the card"))
    declared = outputs[ONNX_PROBABILITIES]["shape"]
    if (len(declared) == 2 and isinstance(declared[1], int)
            and declared[1] != len(card["classes"])):
        raise _bad_import(_("the model answers with the wrong number of classes"))
    if vetted.output_shapes.get(ONNX_PROBABILITIES) != [1, len(card["classes"])]:
        raise _bad_import(_("the model answers with the wrong number of classes"))


def import_zip(projects: ProjectStore, data: bytes, *, store: Any = None,
               name: str | None = None) -> Project:
    """Create a new project holding an exported model (no samples). Validates first."""
    card, graph, int8 = validate_export(data)
    if card["input"]["type"] == "features":
        # the feature step must exist on this kit (raises a clear error otherwise)
        extractor_by_name(card["input"]["name"], store=store,
                          channels=card["input"].get("channels") or ("distance", "light"),
                          tracker=(lambda img: None))
    project = projects.create(name or card.get("name") or str(_("Imported model")), card["kind"],
                              card["classes"], roles=[""] * len(card["classes"]))
    install_model(project, card, graph, int8)
    return project


def install_model(project: Project, card: dict[str, Any], graph: bytes,
                  int8: bytes | None) -> None:
    """Keep a vetted, imported model as the project's model (marked imported)."""
    folder = model_dir(project)
    write_graph(project, graph)
    if int8 is not None:
        write_graph(project, int8, int8=True)
    write_json(project.sealer, folder / LABELS_FILE, card["classes"])
    card["imported"] = True
    write_json(project.sealer, folder / CARD_FILE, card)
    with project.lock:
        project.model = {"trained_at": card["trained_at"], "accuracy": card["accuracy"],
                         "classifier": card.get("classifier"), "extractor": card["input"]["name"],
                         "classes": card["classes"], "outdated": False, "imported": True,
                         "report": {"card": card, "confusion": card.get("confusion", []),
                                    "misclassified": [], "skipped": [], "timings": {}}}
        project.save()
