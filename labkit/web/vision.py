"""Vision task pages: one live page per task at `/vision/<task>`.

The page shows the shared MJPEG stream (`/stream.mjpg`, encoded once for every viewer) and
draws the task's overlay itself on a canvas from the results the detector publishes on the
event bus as `vision.<task>` (streamed by `/events?topics=vision.<task>`), so labels are drawn
by the browser in Chinese or English and no frame is re-encoded per task.

A task's detector starts when a page asks for it (`POST /api/vision/<task>/watch`, which the
page repeats every few seconds) and stops on its own once no page has asked for a while, so an
idle kit does not spend its CPU on models nobody watches.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import cv2
from flask import Blueprint, Response, abort, current_app, jsonify, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from labkit import bands
from labkit.errors import LabkitError
from labkit.web.common import json_body
from labkit.web.access import ANONYMOUS, STUDENT, allow
from labkit.web.overlay import overlay_labels

log = logging.getLogger(__name__)
bp = Blueprint("vision", __name__)

IDLE_SECONDS = 20.0      # a detector nobody has asked for in this long is stopped
LIVE_FPS = 10.0          # model runs per second for the live pages (the camera gives 15)


@dataclass(frozen=True)
class Task:
    slug: str
    title: Any
    blurb: Any
    band: str               # a labkit.bands id: who the page is for
    make: Callable[[Any, Any, Any], Any]   # (camera, store, bus) -> detector

    def __post_init__(self) -> None:
        bands.band(self.band)   # a misspelt band fails when the module loads


def _face(camera: Any, store: Any, bus: Any) -> Any:
    from labkit.vision import FaceDetector

    return FaceDetector(camera, store=store, bus=bus, max_fps=LIVE_FPS)


def _hands(camera: Any, store: Any, bus: Any) -> Any:
    from labkit.vision import HandTracker

    return HandTracker(camera, store=store, bus=bus, max_fps=LIVE_FPS)


def _pose(camera: Any, store: Any, bus: Any) -> Any:
    from labkit.vision import PoseTracker, RepCounter

    tracker = PoseTracker(camera, store=store, bus=bus, max_fps=LIVE_FPS, start=False)
    reps = tracker.attached["reps"] = RepCounter(tracker, "squat")
    tracker.json_extras.append(lambda: {"reps": {"exercise": reps.exercise.name,
                                                 "count": reps.reps, "state": reps.state}})
    return tracker.start()


def _segmentation(camera: Any, store: Any, bus: Any) -> Any:
    from labkit.vision import Segmenter

    return Segmenter(camera, store=store, bus=bus, max_fps=LIVE_FPS)


def _emotion(camera: Any, store: Any, bus: Any) -> Any:
    from labkit.vision import EmotionClassifier

    return EmotionClassifier(camera, store=store, bus=bus, max_fps=LIVE_FPS)


def _ocr(camera: Any, store: Any, bus: Any) -> Any:
    from labkit.vision import TextReader

    return TextReader(camera, store=store, bus=bus, max_fps=1.0)


def _colour(camera: Any, store: Any, bus: Any) -> Any:
    from labkit.vision import ColourTracker

    return ColourTracker(camera, "red", bus=bus, max_fps=LIVE_FPS)


def _shapes(camera: Any, store: Any, bus: Any) -> Any:
    from labkit.vision import ShapeFinder

    return ShapeFinder(camera, bus=bus, max_fps=LIVE_FPS)


TASKS: dict[str, Task] = {t.slug: t for t in (
    Task("face", _l("Faces"), _l("Find faces and their eyes, nose and mouth."), "experience",
         _face),
    Task("hands", _l("Hands and gestures"),
         _l("Follow 21 points on each hand and name the gesture."), "experience", _hands),
    Task("pose", _l("Body pose and exercise"),
         _l("Follow 33 points on the body, measure joint angles and count squats."),
         "creative", _pose),
    Task("segmentation", _l("Person and background"),
         _l("Tell the person apart from the room, for a privacy blur."), "cognition",
         _segmentation),
    Task("emotion", _l("Emotion guessing"),
         _l("A model guesses a feeling from a face — and why it is often wrong."), "cognition",
         _emotion),
    Task("ocr", _l("Reading text"), _l("Read Chinese and English text in the picture."),
         "creative", _ocr),
    Task("colour", _l("Colour tracking"), _l("Follow a coloured object with HSV thresholds."),
         "cognition", _colour),
    Task("shapes", _l("Shapes: how computers see"),
         _l("Grey, blur, edges, outlines: watch each step find the shapes."), "cognition",
         _shapes),
)}


class LiveVision:
    """The running detectors of the live pages (one per task at most), stopped when idle."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.detectors: dict[str, Any] = {}
        self.last_asked: dict[str, float] = {}
        self._lock = threading.Lock()
        self._store: Any = None
        self._watchdog: threading.Thread | None = None
        self._closed = threading.Event()

    def store(self) -> Any:
        if self._store is None:
            from labkit.models import ModelStore

            # the kit's shared store; a fresh one only if it could not be opened (clear error)
            self._store = self.runtime.model_store or ModelStore(self.runtime.settings)
        return self._store

    def watch(self, slug: str) -> Any:
        """Start (or keep running) the task's detector; returns it."""
        task = TASKS[slug]
        with self._lock:
            self.last_asked[slug] = time.monotonic()
            det = self.detectors.get(slug)
            if det is None or det.closed:
                det = task.make(self.runtime.camera, self.store(), self.runtime.bus)
                self.detectors[slug] = det
                log.info("vision: %s started", slug)
            elif not det.running:
                det.start()
            if self._watchdog is None or not self._watchdog.is_alive():
                self._watchdog = threading.Thread(target=self._reap, daemon=True,
                                                  name="labkit-vision-idle")
                self._watchdog.start()
            return det

    def _reap(self) -> None:
        while not self._closed.wait(2.0):
            now = time.monotonic()
            with self._lock:
                for slug, det in self.detectors.items():
                    if det.running and now - self.last_asked.get(slug, 0) > IDLE_SECONDS:
                        det.stop()
                        log.info("vision: %s stopped (no page watching)", slug)

    def get(self, slug: str) -> Any:
        return self.detectors.get(slug)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            for det in self.detectors.values():
                try:
                    det.close()
                except Exception:
                    log.exception("closing a vision detector failed")
            self.detectors.clear()


def live() -> LiveVision:
    runtime = current_app.extensions["labkit"]
    return runtime.service("vision.live", lambda: LiveVision(runtime))


def _task(slug: str) -> Task:
    task = TASKS.get(slug)
    if task is None:
        raise LabkitError(_("There is no vision task called %(name)s.", name=slug),
                          code="not_found", fix=_("Pick a task from the vision page."))
    return task


def _labels() -> dict[str, Any]:
    """Every label the page shows: the overlay's own (web/overlay.py) and the side panels'
    (JS holds no user-visible strings)."""
    return {
        **overlay_labels(),
        "none": _("nothing seen"),
        "rps": {"rock": _("rock"), "paper": _("paper"), "scissors": _("scissors"), "": ""},
        "fingers": _("fingers"),
        "reps_state": {"rest": _("ready"), "active": _("hold…")},
        "coverage": _("person covers %(pct)s of the picture", pct="{pct}"),
        "count": _("%(n)s found", n="{n}"),
        "ms": _("%(ms)s ms per frame", ms="{ms}"),
        "starting": _("Starting the model…"),
        "failed": _("The model could not start:"),
    }


@bp.get("/vision")
@allow(ANONYMOUS)
def index() -> str:
    return render_template("vision/index.html", tasks=list(TASKS.values()))


@bp.get("/vision/<slug>")
@allow(ANONYMOUS)
def page(slug: str) -> str:
    task = TASKS.get(slug)
    if task is None:
        abort(404)
    from labkit.vision.colour import COLOURS
    from labkit.vision.reps import EXERCISES
    from labkit.vision.shapes import STAGES

    return render_template(f"vision/{slug}.html", task=task, tasks=list(TASKS.values()),
                           labels=_labels(), colours=list(COLOURS), exercises=list(EXERCISES),
                           stages=STAGES)


@bp.post("/api/vision/<slug>/watch")
@allow(ANONYMOUS)
def watch(slug: str) -> Response:
    """Start or keep alive the task's detector; answers its latest state."""
    _task(slug)
    det = live().watch(slug)
    result = det.result
    return jsonify({"task": slug, "topic": det.topic, "running": det.running,
                    "runs": det.runs, "error": det.last_error,
                    "result": det.to_json(result) if result is not None else None})


@bp.post("/api/vision/<slug>/settings")
@allow(STUDENT)
def settings(slug: str) -> Response:
    """Task options a student may change: the colour to track, the exercise to count."""
    _task(slug)
    data = json_body()
    det = live().watch(slug)
    if slug == "colour" and "colour" in data:
        from labkit.vision.colour import COLOURS

        if data["colour"] not in COLOURS:
            raise LabkitError(_("Unknown colour %(name)s.", name=str(data["colour"])[:40]),
                              code="bad_input", fix=", ".join(COLOURS))
        det.set_colour(data["colour"])
        return jsonify({"colour": det.colour})
    if slug == "pose" and "exercise" in data:
        from labkit.vision.reps import EXERCISES

        if data["exercise"] not in EXERCISES:
            raise LabkitError(_("Unknown exercise %(name)s.", name=str(data["exercise"])[:40]),
                              code="bad_input", fix=", ".join(EXERCISES))
        reps = det.attached["reps"]
        reps.exercise = EXERCISES[data["exercise"]]
        reps.reset()
        return jsonify({"exercise": reps.exercise.name})
    if slug == "pose" and data.get("reset"):
        reps = det.attached["reps"]
        reps.reset()
        return jsonify({"exercise": reps.exercise.name, "count": 0})
    raise LabkitError(_("Nothing to change for this task."), code="bad_input",
                      fix=_("Reload the page and try again."))


@bp.get("/vision/shapes/stage/<stage>.jpg")
@allow(ANONYMOUS)
def shapes_stage(stage: str) -> Response:
    """One stage of the 'how computers see' pipeline on the newest camera frame (a JPEG made
    on request, kept nowhere)."""
    from labkit.vision.shapes import STAGES

    if stage not in STAGES:
        raise LabkitError(_("Unknown pipeline stage %(name)s.", name=stage[:40]),
                          code="not_found", fix=", ".join(STAGES))
    det = live().watch("shapes")
    frame = live().runtime.camera.read()
    if frame is None:
        raise LabkitError(_("The camera has not sent a picture yet."), code="no_frame",
                          fix=_("Wait a moment and try again."))
    image = det.pipeline(frame)[stage]
    h, w = image.shape[:2]
    if w > 480:
        image = cv2.resize(image, (480, round(h * 480 / w)), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])
    if not ok:
        raise LabkitError(_("The picture could not be made."), code="encode_failed")
    response = Response(jpeg.tobytes(), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "no-store"
    return response
