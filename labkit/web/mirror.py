"""The magic mirror: the camera picture with the person kept and the room replaced by a picture.

`/mirror.mjpg` is a second MJPEG stream built like `/stream.mjpg` (one encode per frame for
every viewer, stopped when nobody watches), whose frames are composited in memory: the
selfie-segmentation model's person mask puts the child in front of the chosen background
(`Segmenter.replace_background`). Nothing is written: a frame lives only until the next one.

Backgrounds are the ready-made pictures of labkit/vision/backgrounds.py or a child's own
drawing, uploaded with an explicit "save" into the portfolio of their magic_mirror run (the
portfolio's caps and the learn dataset's image checks apply: formats, pixel limits). The
first composited frame with a person in it for each new background is announced on the bus
as `mirror.replaced` ({picture, kind, coverage}), which the lab logs for its checks.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import cv2
import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _, lazy_gettext as _l

from labkit.drivers.camera import Frame
from labkit.errors import LabkitError
from labkit.vision.backgrounds import PICTURES, picture
from labkit.web.access import ANONYMOUS, STUDENT, allow
from labkit.web.common import json_body
from labkit.web.handoff import stream_response
from labkit.web.stream import BOUNDARY, FrameBroadcaster

log = logging.getLogger(__name__)

bp = Blueprint("mirror", __name__)

DRAWING_SIDE = 640          # a drawing is kept at most this long on its longer side
MIN_COVERAGE = 0.02         # share of the frame that must be person before a swap counts
PICTURE_NAMES = {"sea": _l("Seaside"), "space": _l("Outer space"), "forest": _l("Forest"),
                 "rainbow": _l("Rainbow")}


class Mirror:
    """The kit's one mirror: the chosen background and the segmenter that cuts the child out."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._segmenter: Any = None
        self.picture: str | None = None     # "sea" … or "drawing-<artefact id>"
        self.kind = ""                       # "builtin" or "drawing"
        self._image: np.ndarray | None = None
        self._sized: np.ndarray | None = None
        self._reported: str | None = None

    def segmenter(self) -> Any:
        if self._segmenter is None:
            from labkit.vision.segmentation import Segmenter

            self._segmenter = Segmenter(store=self.runtime.model_store, start=False,
                                        min_coverage=MIN_COVERAGE)
        return self._segmenter

    def choose(self, picture_id: str, kind: str, image: np.ndarray) -> None:
        with self._lock:
            self.picture, self.kind, self._image, self._sized = picture_id, kind, image, None

    def composite(self, image: np.ndarray) -> np.ndarray:
        """The frame with its background replaced (or as it is, before a picture is chosen)."""
        with self._lock:
            chosen, kind, back = self.picture, self.kind, self._image
            sized = self._sized
        if chosen is None or back is None:
            return image
        h, w = image.shape[:2]
        if sized is None or sized.shape[:2] != (h, w):
            sized = cv2.resize(back, (w, h), interpolation=cv2.INTER_AREA)
            with self._lock:
                if self.picture == chosen:
                    self._sized = sized
        seg = self.segmenter()
        result = seg.detect(image)
        out = seg.replace_background(image, sized, result)
        if result.coverage >= MIN_COVERAGE and self._reported != chosen:
            self._reported = chosen
            self.runtime.bus.publish("mirror.replaced", {"picture": chosen, "kind": kind,
                                                         "coverage": round(result.coverage, 3)})
        return out

    def close(self) -> None:
        if self._segmenter is not None:
            self._segmenter.close()


class MirrorCamera:
    """The kit's camera as the broadcaster sees it, each frame passed through the mirror."""

    def __init__(self, camera: Any, mirror: Mirror) -> None:
        self.camera, self.mirror = camera, mirror

    @property
    def connected(self) -> bool:
        return bool(self.camera.connected)

    def read(self) -> Frame | None:
        return self.camera.read()

    def wait_for_frame(self, after_seq: int = 0, timeout: float = 5.0) -> Frame | None:
        frame = self.camera.wait_for_frame(after_seq, timeout=timeout)
        if frame is None:
            return None
        try:
            image = self.mirror.composite(frame.image)
        except LabkitError as exc:      # no segmentation model: show the plain picture
            log.warning("mirror: %s", exc.one_line())
            image = frame.image
        return Frame(image, frame.seq, frame.timestamp)


def mirror() -> Mirror:
    rt = current_app.extensions["labkit"]
    return rt.service("mirror", lambda: Mirror(rt))


def broadcaster() -> FrameBroadcaster:
    rt = current_app.extensions["labkit"]
    m = mirror()
    camera = rt.camera
    return rt.service("mirror-mjpeg", lambda: FrameBroadcaster(MirrorCamera(camera, m)))


@bp.app_template_global()
def mirror_pictures() -> list[dict[str, str]]:
    """The ready-made backgrounds for the page: id and translated name."""
    return [{"id": p, "name": str(PICTURE_NAMES[p])} for p in PICTURES]


@bp.get("/mirror.mjpg")
@allow(ANONYMOUS)
def stream() -> Response:
    frames = broadcaster()
    return stream_response(frames.astream, frames.stream,
                           f"multipart/x-mixed-replace; boundary={BOUNDARY}")


def _drawing(artefact_id: Any) -> tuple[Any, np.ndarray]:
    """A saved drawing this browser may open (its student's, or any for the teacher)."""
    from labkit.web import auth
    from labkit.web.labs import store

    try:
        art = store().artefacts.get(int(artefact_id))
    except (TypeError, ValueError):
        raise LabkitError(_("Pick one of your drawings."), code="bad_input",
                          fix=_("Save a drawing first, then press it.")) from None
    run = store().runs.get(art.run_id)
    if art.kind != "sample" or run.lesson_id != "magic_mirror" or \
            not auth.may_open("run", run.id, run.student_id):
        raise LabkitError(_("That drawing belongs to someone else."), code="forbidden",
                          fix=_("Save a drawing of your own."))
    image = cv2.imdecode(np.frombuffer(store().artefacts.read(art), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise LabkitError(_("The drawing could not be read."), code="bad_image",
                          fix=_("Save it again."))
    return art, image


@bp.post("/api/mirror/background")
@allow(STUDENT)
def choose() -> Response:
    """Stand in front of a ready-made picture ({"picture": "sea"}) or a saved drawing
    ({"drawing": <artefact id>})."""
    data = json_body()
    if data.get("drawing") is not None:
        art, image = _drawing(data["drawing"])
        picture_id, kind = f"drawing-{art.id}", "drawing"
    else:
        name = str(data.get("picture", ""))
        if name not in PICTURES:
            raise LabkitError(_("Unknown picture %(name)s.", name=name[:20]), code="bad_input",
                              fix=_("Press one of the pictures."))
        image, picture_id, kind = picture(name), name, "builtin"
    mirror().choose(picture_id, kind, image)
    broadcaster()   # the stream's viewers see it at once
    return jsonify({"picture": picture_id, "kind": kind})


@bp.post("/api/mirror/drawings")
@allow(STUDENT)
def save_drawing() -> Response:
    """Keep a child's drawing in the portfolio of their running magic_mirror run — only when
    they press save. The upload is checked like a /learn image (format, pixel limits) and
    stored re-encoded as a JPEG of at most DRAWING_SIDE pixels (no metadata kept)."""
    from labkit.learn.dataset import decode_image, encode_image
    from labkit.web.labs import _own_run, store

    try:
        run_id = int(request.form.get("run_id", ""))
    except ValueError:
        raise LabkitError(_("Start the lab first."), code="bad_input",
                          fix=_("Press \"Start the lab\", then save your drawing.")) from None
    _student, run = _own_run(run_id)
    if run.lesson_id != "magic_mirror" or run.status != "running":
        raise LabkitError(_("Start the lab first."), code="conflict",
                          fix=_("Press \"Start the lab\", then save your drawing."))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise LabkitError(_("Choose a picture of your drawing first."), code="bad_image",
                          fix=_("Take a photo of your drawing, or scan it, as JPEG or PNG."))
    data = encode_image(decode_image(upload.read()), side=DRAWING_SIDE)
    n = len([a for a in run.artefacts if a.kind == "sample"]) + 1
    art = store().artefacts.save(run.id, "sample", _("My drawing %(n)s", n=n), data, ".jpg")
    return jsonify({"drawing": art.id, "name": art.name})
