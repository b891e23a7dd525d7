"""The teachable-models page: make a project, record samples, train, try it live, export.

Pages: `/learn` (projects) and `/learn/<id>` (one project). JSON under `/api/learn/...`
(errors as `{"error": {"code", "message"}}` with 4xx, uploads over 20 MB → 413). Thumbnails
are made from the saved samples only; live frames never leave memory unless recorded.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import numpy as np
from flask import (Blueprint, Response, jsonify, render_template, request,
                   send_file)
from flask_babel import gettext as _

from labkit.audio_ai import vocabulary
from labkit.errors import LabkitError
from labkit.learn.background import MIN_BACKGROUND
from labkit.learn.dataset import (IMAGE_KINDS, KINDS, MAX_PER_CLASS, MAX_TOTAL,
                                  ProjectStore)
from labkit.learn.names import MAX_CLASSES
from labkit.web import auth
from labkit.web.access import ANONYMOUS, STUDENT, allow
from labkit.web.common import json_body, kit_runtime as runtime

if TYPE_CHECKING:
    from labkit.learn.service import LearnService

bp = Blueprint("learn", __name__)

MAX_FILES_PER_UPLOAD = 100
THUMB_SIDE = 96



def model_store() -> Any:
    """The kit's shared model store (None if it cannot be opened: learn falls back to HOG)."""
    return runtime().model_store


def service() -> LearnService:
    # The service, the trainer and the exporter load with the first /learn request, not at
    # the kit's start: most lessons never open /learn.
    from labkit.learn.service import LearnService

    rt = runtime()
    existing = rt.services.get("learn")
    if existing is not None:
        return existing
    store = model_store()   # outside the factory: runtime.service() holds a plain lock
    return rt.service("learn", lambda: LearnService(rt, store=store))


def projects() -> ProjectStore:
    return service().projects


def owned(project_id: str) -> Any:
    """The project if this browser may see and change it: its owner (in a session that proved
    who they are, or the session that made it) or the teacher. Anyone else: 403, nothing done."""
    project = projects().get(project_id)
    if not auth.may_open("learn", project.id, project.owner):
        raise LabkitError(_("This project belongs to someone else."), code="forbidden",
                          fix=_("Open one of your own projects, or make a new one."))
    return project


def _visible(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The projects this browser may open (the teacher sees all)."""
    if auth.is_teacher():
        return summaries
    # a damaged project is listed (id and error only: nothing of a child's) so it can be
    # repaired; its manifest, and so its owner, could not be read
    return [p for p in summaries if ("error" in p and auth.is_student())
            or ("error" not in p and auth.may_open("learn", p["id"], p.get("owner")))]



# ---------------------------------------------------------------------------------------------
# pages
# ---------------------------------------------------------------------------------------------

def _kind_names() -> dict[str, str]:
    return {"image": _("Image"), "hand": _("Hand gesture"), "pose": _("Body pose"),
            "sound": _("Sound"), "sensor": _("Sensor")}


@bp.get("/learn")
@allow(ANONYMOUS)
def index() -> str:
    return render_template("learn/index.html", kinds=_kind_names(),
                           projects=_visible(projects().list()), max_classes=MAX_CLASSES,
                           signed_in=auth.is_student(), command_words=vocabulary.words())


@bp.get("/learn/<project_id>")
@allow(STUDENT)
def project_page(project_id: str) -> str:
    from labkit.learn.exchange import export_filename, usage_snippet
    from labkit.learn.service import ANGLES, CLASSIFIERS, COLOURS, NOTES

    project = owned(project_id)
    return render_template(
        "learn/project.html", project=project, summary=project.summary(),
        kinds=_kind_names(), classifiers=CLASSIFIERS, colours=list(COLOURS), notes=NOTES,
        colour_names=_colour_names(),
        angles=ANGLES, image_kind=project.kind in IMAGE_KINDS, max_classes=MAX_CLASSES,
        min_background=MIN_BACKGROUND, export_name=export_filename(project.name),
        snippet=usage_snippet(project.kind, export_filename(project.name)),
        embedder=bool(project.kind != "image" or _has_embedder()))


def _colour_names() -> dict[str, str]:
    from labkit.learn.service import COLOURS

    names = {"red": _("red"), "green": _("green"), "blue": _("blue"), "yellow": _("yellow"),
             "purple": _("purple"), "cyan": _("cyan"), "white": _("white"), "off": _("off")}
    return {c: names.get(c, c) for c in COLOURS}


def _has_embedder() -> bool:
    store = model_store()
    try:
        return bool(store is not None and store.has("efficientnet_lite0_features"))
    except Exception:
        return False


# ---------------------------------------------------------------------------------------------
# projects and classes
# ---------------------------------------------------------------------------------------------

@bp.get("/api/learn/projects")
@allow(ANONYMOUS)
def list_projects() -> Response:
    return jsonify({"projects": _visible(projects().list()),
                    "limits": {"per_class": MAX_PER_CLASS, "total": MAX_TOTAL,
                               "classes": MAX_CLASSES}, "kinds": list(KINDS)})


@bp.post("/api/learn/projects")
@allow(STUDENT)
def create_project() -> Response:
    body = json_body()
    classes = body.get("classes")
    if not isinstance(classes, list):
        raise LabkitError(_("Name the classes as a list."), code="bad_input",
                          fix=_("Add two to six class names."))
    student = auth.session_student()
    project = projects().create(body.get("name", ""), body.get("kind", ""), classes,
                                owner=student.id if student else None)
    auth.grant("learn", project.id)
    response = jsonify(project.summary())
    response.status_code = 201
    return response


def _summary(project_id: str) -> dict[str, Any]:
    project = owned(project_id)
    data = project.summary()
    data["job"] = service().job(project_id)
    if data["job"]:
        data["job"].pop("report", None)
    return data


@bp.get("/api/learn/projects/<project_id>")
@allow(STUDENT)
def get_project(project_id: str) -> Response:
    data = _summary(project_id)
    service().prewarm(projects().get(project_id))  # the page is open: Train will not wait
    return jsonify(data)


@bp.delete("/api/learn/projects/<project_id>")
@allow(STUDENT)
def delete_project(project_id: str) -> Response:
    owned(project_id)
    projects().delete(project_id)
    return jsonify({"deleted": project_id})


@bp.post("/api/learn/projects/<project_id>/repair")
@allow(STUDENT)
def repair_project(project_id: str) -> Response:
    try:
        owned(project_id)
    except LabkitError as exc:
        # a damaged manifest names no owner; repairing rebuilds it from the sample folders and
        # keeps the damaged file, so it destroys nothing and any student may ask for it
        if exc.code != "corrupt_dataset":
            raise
    return jsonify(projects().repair(project_id).summary())


@bp.post("/api/learn/projects/<project_id>/classes")
@allow(STUDENT)
def add_class(project_id: str) -> Response:
    info = owned(project_id).add_class(json_body().get("name", ""))
    return jsonify({"id": info.id, "name": info.name, "summary": _summary(project_id)})


@bp.post("/api/learn/projects/<project_id>/classes/<class_id>/rename")
@allow(STUDENT)
def rename_class(project_id: str, class_id: str) -> Response:
    info = owned(project_id).rename_class(class_id, json_body().get("name", ""))
    return jsonify({"id": info.id, "name": info.name})


@bp.delete("/api/learn/projects/<project_id>/classes/<class_id>")
@allow(STUDENT)
def remove_class(project_id: str, class_id: str) -> Response:
    owned(project_id).remove_class(class_id)
    return jsonify(_summary(project_id))


# ---------------------------------------------------------------------------------------------
# samples
# ---------------------------------------------------------------------------------------------

@bp.post("/api/learn/projects/<project_id>/classes/<class_id>/capture")
@allow(STUDENT)
def capture(project_id: str, class_id: str) -> Response:
    owned(project_id)
    body = json_body(optional=True)
    try:
        seconds = float(body.get("seconds", 1.0))
    except (TypeError, ValueError):
        seconds = 1.0
    return jsonify(service().capture(project_id, class_id, seconds=seconds,
                                     take=body.get("take") or ""))


@bp.post("/api/learn/projects/<project_id>/classes/<class_id>/upload")
@allow(STUDENT)
def upload(project_id: str, class_id: str) -> Response:
    project = owned(project_id)
    project.get_class(class_id)
    files = request.files.getlist("files")
    if not files:
        raise LabkitError(_("No file was chosen."), code="bad_input",
                          fix=_("Choose one or more files to upload."))
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise LabkitError(_("Upload at most %(n)s files at once.", n=MAX_FILES_PER_UPLOAD),
                          code="too_many_samples", fix=_("Upload them in smaller groups."))
    added, errors = [], []
    for f in files:
        try:
            sample = service().add_upload(project, class_id, f.read(), f.filename or "")
            added.append(sample.to_json())
        except LabkitError as exc:
            errors.append({"file": f.filename, "code": exc.code, "message": exc.message})
            if exc.code == "too_many_samples":
                break
    if not added and errors:
        first = errors[0]
        status = 413 if first["code"] == "too_large" else 400
        response = jsonify({"error": {"code": first["code"], "message": first["message"],
                                      "files": errors}})
        response.status_code = status
        return response
    return jsonify({"added": added, "errors": errors,
                    "count": len(project.get_class(class_id).samples), "total": project.total})


@bp.delete("/api/learn/projects/<project_id>/samples/<sample_id>")
@allow(STUDENT)
def delete_sample(project_id: str, sample_id: str) -> Response:
    project = owned(project_id)
    service().forget_features(project, sample_id)
    project.delete_sample(sample_id)
    return jsonify(_summary(project_id))


@bp.get("/api/learn/projects/<project_id>/samples/<sample_id>/thumb")
@allow(STUDENT)
def thumbnail(project_id: str, sample_id: str) -> Response:
    import cv2

    project = owned(project_id)
    info, sample = project.find_sample(sample_id)
    payload = project.read_sample(info, sample)
    if project.kind in IMAGE_KINDS:
        img = payload
        h, w = img.shape[:2]
        scale = THUMB_SIDE / max(h, w)
        img = cv2.resize(img, (max(1, int(w * scale)), max(1, int(h * scale))),
                         interpolation=cv2.INTER_AREA)
    elif project.kind == "sound":
        from labkit.audio_ai.features import log_mel

        mel = log_mel(payload).T[::-1]
        mel = (255 * (mel - mel.min()) / max(1e-6, float(np.ptp(mel)))).astype(np.uint8)
        img = cv2.applyColorMap(cv2.resize(mel, (THUMB_SIDE, THUMB_SIDE // 2)),
                                cv2.COLORMAP_VIRIDIS)
    else:
        values = np.asarray(payload["values"], dtype=np.float64)
        img = np.full((THUMB_SIDE // 2, THUMB_SIDE, 3), 255, np.uint8)
        colours = [(200, 80, 30), (30, 140, 230), (60, 160, 60)]
        for c in range(values.shape[1]):
            v = values[:, c]
            span = float(np.ptp(v)) or 1.0
            ys = (THUMB_SIDE // 2 - 4) * (1 - (v - v.min()) / span) + 2
            xs = np.linspace(2, THUMB_SIDE - 2, len(v))
            pts = np.stack([xs, ys], 1).astype(np.int32)
            cv2.polylines(img, [pts], False, colours[c % 3], 1, cv2.LINE_AA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    response = Response(buf.tobytes(), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"   # a child's sample
    return response


# ---------------------------------------------------------------------------------------------
# training, prediction, actions
# ---------------------------------------------------------------------------------------------

@bp.post("/api/learn/projects/<project_id>/train")
@allow(STUDENT)
def train(project_id: str) -> Response:
    owned(project_id)
    body = json_body(optional=True)
    job = service().start_training(project_id, str(body.get("classifier", "logistic")))
    response = jsonify(job)
    response.status_code = 202
    return response


@bp.get("/api/learn/projects/<project_id>/train")
@allow(STUDENT)
def train_status(project_id: str) -> Response:
    project = owned(project_id)
    job = service().job(project_id)
    return jsonify({"job": job, "model": project.model})


@bp.get("/api/learn/projects/<project_id>/predict")
@allow(STUDENT)
def predict(project_id: str) -> Response:
    owned(project_id)
    act = request.args.get("act", "1") != "0"
    return jsonify(service().predict_live(project_id, act=act))


@bp.post("/api/learn/projects/<project_id>/actions/<class_id>")
@allow(STUDENT)
def set_action(project_id: str, class_id: str) -> Response:
    owned(project_id)
    return jsonify(service().set_action(project_id, class_id, json_body()))


# ---------------------------------------------------------------------------------------------
# export, import, portfolio
# ---------------------------------------------------------------------------------------------

@bp.get("/api/learn/projects/<project_id>/export")
@allow(STUDENT)
def export(project_id: str) -> Response:
    """The model alone, at once (`?int8=1`, the default, first makes the int8 copy, which
    takes a while). The page uses the export job below."""
    from labkit.learn.exchange import build_export
    from labkit.learn.model import make_int8

    project = owned(project_id)
    svc = service()
    if request.args.get("int8", "1") != "0" and project.model and not project.model.get(
            "imported"):
        tracker = svc.tracker(project.kind) if project.kind in ("hand", "pose") else None
        make_int8(project, store=svc.store, tracker=tracker)
    filename, data = build_export(project, samples=False)
    return _zip_file(filename, data)


def _zip_file(filename: str, data: bytes) -> Response:
    response = send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                         download_name=filename)
    response.headers["Cache-Control"] = "private, no-store"     # may hold a child's samples
    return response


@bp.post("/api/learn/projects/<project_id>/export")
@allow(STUDENT)
def start_export(project_id: str) -> Response:
    """Start an export job: `{"samples": bool, "passphrase": str}` (both optional)."""
    owned(project_id)
    body = json_body(optional=True)
    samples = body.get("samples", False)
    if not isinstance(samples, bool):
        raise LabkitError(_("“samples” must be true or false."), code="bad_input",
                          fix=_("Reload the page and try again."))
    job = service().start_export(project_id, samples=samples,
                                 passphrase=body.get("passphrase") or None)
    response = jsonify(job)
    response.status_code = 202
    return response


@bp.get("/api/learn/projects/<project_id>/export/status")
@allow(STUDENT)
def export_status(project_id: str) -> Response:
    owned(project_id)
    return jsonify({"job": service().export_job(project_id)})


@bp.get("/api/learn/projects/<project_id>/export/download")
@allow(STUDENT)
def export_download(project_id: str) -> Response:
    owned(project_id)
    filename, data = service().export_download(project_id, request.args.get("token", ""))
    return _zip_file(filename, data)


@bp.post("/api/learn/projects/<project_id>/quantlab")
@allow(STUDENT)
def quantisation_experiment(project_id: str) -> Response:
    """float32 vs int8 of the student's own model, measured now on this kit."""
    owned(project_id)
    result = service().quantisation_experiment(project_id)
    labels = {"size": _("File size"), "latency": _("Time per prediction"),
              "accuracy": _("Held-out accuracy"), "unmeasured": _("too few samples to measure")}
    comparison = result.pop("comparison")
    return jsonify({**result, "chart_svg": comparison.chart(labels)})


@bp.post("/api/learn/import")
@allow(STUDENT)
def import_model() -> Response:
    """A `.labkit-model.zip` (form field `file`, and `passphrase` if it is protected) back as
    a project of this student: classes, samples (if exported with them) and model."""
    from labkit.learn.exchange import MAX_IMPORT_BYTES

    request.max_content_length = MAX_IMPORT_BYTES   # an export may carry samples
    upload = request.files.get("file")
    if upload is None:
        raise LabkitError(_("No file was chosen."), code="bad_input",
                          fix=_("Choose a model .zip exported from a kit."))
    student = auth.session_student()
    project = service().import_project(upload.read(),
                                       passphrase=request.form.get("passphrase") or None,
                                       owner=student.id if student else None)
    auth.grant("learn", project.id)
    response = jsonify(project.summary())
    response.status_code = 201
    return response


@bp.post("/api/learn/projects/<project_id>/portfolio")
@allow(STUDENT)
def save_to_portfolio(project_id: str) -> Response:
    """Keep the trained model (ONNX + card) in the picked student's portfolio."""
    from labkit.learn.model import read_card, read_graph
    from labkit.store import Store
    from labkit.web.labs import need_student

    project = owned(project_id)
    if not project.model:
        raise LabkitError(_("This project has no trained model yet."), code="not_trained",
                          fix=_("Press Train first."))
    student = need_student()
    store = Store.for_runtime(runtime())
    card = read_card(project)
    run_id = store.runs.start(student.id, lesson_id="learn", project_id=f"learn:{project.id}",
                              steps_total=0, title_zh=f"我的分类器：{project.name}",
                              title_en=f"My classifier: {project.name}")
    kept = [store.artefacts.save(run_id, "model", project.name,
                                 read_graph(project), ".onnx"),
            store.artefacts.save(run_id, "model", f"{project.name} card",
                                 json.dumps(card, ensure_ascii=False).encode("utf-8"), ".json")]
    store.runs.end(run_id, "finished")
    auth.grant("run", run_id)     # a fresh session may open what it saved itself
    return jsonify({"run": run_id, "artefacts": [a.id for a in kept]})
