"""The learn page's engine on a running kit: capture, train in the background, predict live,
drive the bench from predictions.

One `LearnService` per kit process (`runtime.service("learn", ...)`). It takes hardware from
the runtime (camera, microphone, bench readings, named devices, speaker) and never stores a
frame or a recording unless `capture` is called for a class — the student's explicit action.

Training runs in a child process (labkit/learn/worker.py), warmed up while the student
records, so the web process never holds scikit-learn/skl2onnx/onnx and a crash in training
ends the job with an error instead of the page. Image samples get their features computed in
the background as they are saved (labkit/learn/featurecache.py), so Train only fits.

Events on the bus:
    learn.progress    {"project", "state": running|done|error, "stage", "fraction", "message"}
    learn.prediction  {"project", "label", "confidence", "probabilities"}
    learn.features    {"project", "pending", "done", "failed"}
    learn.export      {"project", "state": running|done|error, "stage", "fraction"}
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable

import numpy as np

from labkit.drivers.pins import Holder, PinsBusy
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _
from labkit.jobs import Jobs
from labkit.learn.dataset import IMAGE_KINDS, SENSOR_CHANNELS, Project, ProjectStore
from labkit.learn.featurecache import FeatureCache, FeaturePrecomputer, use_cache
from labkit.learn.features import Extractor, extractor_for, vision_tracker
from labkit.learn.model import Predictor, TrainReport, train_project
from labkit.learn.names import clean_name
from labkit.learn.worker import TrainingCrashed, TrainingWorker

log = logging.getLogger(__name__)

SENSOR_RATE = 10.0           # readings per second
SENSOR_WINDOW_S = 1.0        # one sensor sample = this many seconds of readings
MIN_CONFIDENCE = 0.6         # actions fire only for a prediction at least this sure
FEATURES_WAIT_S = 60.0       # Train first lets the background feature pass finish
CLASSIFIERS = ("logistic", "knn", "mlp")

COLOURS = {"red": (1, 0, 0), "green": (0, 1, 0), "blue": (0, 0, 1), "yellow": (1, 1, 0),
           "purple": (1, 0, 1), "cyan": (0, 1, 1), "white": (1, 1, 1), "off": (0, 0, 0)}
NOTES = ("C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5")
ANGLES = (-90, -45, 0, 45, 90)
ACTION_TYPES = ("none", "led", "rgb", "buzzer", "servo", "say")


def check_action(action: Any) -> dict[str, Any]:
    """A binding from the page → a clean dict, or a clear error."""
    if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
        raise LabkitError(_("Unknown action."), code="bad_action",
                          fix=_("Choose an action from the list."))
    kind = action["type"]
    value = action.get("value")
    if kind == "none":
        return {"type": "none"}
    if kind == "led":
        return {"type": "led", "value": "on" if value in ("on", True, 1) else "off"}
    if kind == "rgb":
        if value not in COLOURS:
            raise LabkitError(_("Unknown colour."), code="bad_action",
                              fix=_("Choose a colour from the list."))
        return {"type": "rgb", "value": value}
    if kind == "buzzer":
        if value not in NOTES and value != "off":
            raise LabkitError(_("Unknown note."), code="bad_action",
                              fix=_("Choose a note from the list."))
        return {"type": "buzzer", "value": value}
    if kind == "servo":
        try:
            angle = int(value)
        except (TypeError, ValueError):
            angle = 999
        if not -90 <= angle <= 90:
            raise LabkitError(_("The servo angle must be between -90 and 90."),
                              code="bad_action", fix=_("Choose an angle from the list."))
        return {"type": "servo", "value": angle}
    text = clean_name(value if isinstance(value, str) else "")
    return {"type": "say", "value": text}


class SensorSampler:
    """Reads the bench's distance and light values at 10 Hz into a short ring buffer.

    Started on first use (only for sensor projects), so an idle kit polls nothing extra.
    """

    def __init__(self, runtime: Any, channels: tuple[str, ...] = SENSOR_CHANNELS) -> None:
        self.runtime = runtime
        self.channels = channels
        self._buf: deque[list[float]] = deque(maxlen=int(SENSOR_RATE * 10))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="labkit-learn-sensors",
                                        daemon=True)
        self._thread.start()

    def read_once(self) -> list[float]:
        state = self.runtime.bench.state()
        row = []
        for name in self.channels:
            st = state.get(name, {})
            value = st.get("distance") if "distance" in st else st.get("value")
            row.append(float(value) if value is not None else 0.0)
        return row

    def _run(self) -> None:
        while not self._stop.wait(1.0 / SENSOR_RATE):
            try:
                self._buf.append(self.read_once())
            except Exception:  # a sensor hiccup must not kill the sampler
                log.debug("sensor read failed", exc_info=True)

    def window(self, seconds: float = SENSOR_WINDOW_S) -> dict[str, Any]:
        n = max(2, int(round(seconds * SENSOR_RATE)))
        deadline = time.monotonic() + seconds + 1.0
        while len(self._buf) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        rows = list(self._buf)[-n:]
        if len(rows) < 2:
            rows = [self.read_once(), self.read_once()]
        return {"channels": list(self.channels), "values": rows, "rate": SENSOR_RATE}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


class LearnService:
    """Projects, background training, live prediction and actions for one kit."""

    def __init__(self, runtime: Any, store: Any = None) -> None:
        self.runtime = runtime
        self.store = store
        self.projects = ProjectStore(runtime.settings.data_dir)
        self._jobs: dict[str, dict[str, Any]] = {}
        self._predictors: dict[str, tuple[str, Predictor]] = {}
        self._trackers: dict[str, Any] = {}
        self._last_label: dict[str, str | None] = {}
        self._lock = threading.RLock()
        self._train_lock = threading.Lock()
        self._sampler: SensorSampler | None = None
        threads = getattr(runtime.settings, "threads", 2)
        self._worker = TrainingWorker(runtime.settings, threads=threads,
                                      models_dir=getattr(store, "models_dir", None))
        self._feature_extractors: dict[str, Extractor] = {}
        # progress only on the bus: the file's name (the project's) and token stay with its
        # owner's polls, since anyone on the kit's page may listen to the bus
        self._exports = Jobs("learn.export", publish=runtime.bus.publish,
                             busy=LabkitError(_("This project is already being exported."),
                                              code="busy",
                                              fix=_("Wait until the progress bar is full.")),
                             announced=("project", "state", "stage", "fraction"),
                             hidden=("data",), keep_s=self.EXPORT_KEEP_S,
                             failed=lambda exc: _("The export failed: %(why)s", why=str(exc)))
        self._features = FeaturePrecomputer(self._feature_extractor, runtime.bus.publish)

    # ---- helpers ------------------------------------------------------------------------
    def tracker(self, kind: str) -> Any:
        with self._lock:
            if kind not in self._trackers:
                self._trackers[kind] = vision_tracker(kind, self.store)
            return self._trackers[kind]

    def extractor(self, project: Project) -> Extractor:
        tracker = self.tracker(project.kind) if project.kind in ("hand", "pose") else None
        return extractor_for(project.kind, store=self.store, tracker=tracker,
                             threads=getattr(self.runtime.settings, "threads", 2))

    def _feature_extractor(self, project: Project) -> Extractor:
        """The background feature pass's own extractor (one per kind, kept)."""
        with self._lock:
            if project.kind not in self._feature_extractors:
                self._feature_extractors[project.kind] = self.extractor(project)
            return self._feature_extractors[project.kind]

    def sample_saved(self, project: Project, sample_id: str) -> None:
        """A student saved a sample: start its features, and warm up the trainer."""
        if project.kind == "image":
            self._features.submit(project, sample_id)
        self.prewarm(project)

    def forget_features(self, project: Project, sample_id: str) -> None:
        """Before a sample is deleted: its cached features go with it (nothing derived from
        a deleted photo stays on the kit)."""
        from labkit.learn.featurecache import forget, payload_key

        try:
            with project.lock:
                info, sample = project.find_sample(sample_id)
            forget(project.root, payload_key(project.read_sample(info, sample)))
        except LabkitError:
            pass  # no such sample, or its file is already gone: nothing cached to find

    def prewarm(self, project: Project) -> None:
        """A project with samples is open: have a warm training process ready for Train."""
        if project.total == 0:
            return
        try:
            self._worker.prewarm()
        except OSError as exc:  # no process could be started: training will say so
            log.warning("cannot start the training process: %s", exc)

    def sampler(self) -> SensorSampler:
        with self._lock:
            if self._sampler is None:
                self._sampler = SensorSampler(self.runtime)
            return self._sampler

    def live_payload(self, project: Project, *, seconds: float = 1.0) -> Any:
        """What the kit senses right now, in the project's kind (kept in memory only)."""
        if project.kind in IMAGE_KINDS:
            frame = self.runtime.camera.read() or self.runtime.camera.wait_for_frame(timeout=2)
            if frame is None:
                raise LabkitError(_("The camera has no picture yet."), code="no_camera",
                                  fix=_("Check the camera and try again."))
            return frame.image
        if project.kind == "sound":
            mic = self.runtime.microphone
            if mic is None or not mic.connected:
                raise LabkitError(_("There is no microphone."), code="no_microphone",
                                  fix=_("Plug in a USB microphone."))
            seconds = float(min(3.0, max(0.5, seconds)))
            return mic.recent(seconds)
        return self.sampler().window()

    # ---- capture ------------------------------------------------------------------------
    def capture(self, project_id: str, class_id: str, *, seconds: float = 1.0,
                take: str = "") -> dict[str, Any]:
        """Keep what the kit senses now as a sample of `class_id`. A hand or pose picture
        with no hand/body in it, and a word clip with no sound, are refused (nothing kept);
        the background class of a sound project takes the quiet room."""
        project = self.projects.get(project_id)
        project.get_class(class_id)
        payload = self.live_payload(project, seconds=seconds)
        found = self.check_landmarks(project, payload)
        sample = project.add_sample(class_id, payload, source="live", take=take)
        self.sample_saved(project, sample.id)
        return {"sample": sample.to_json(), "class": class_id, "found": found,
                "count": len(project.get_class(class_id).samples), "total": project.total}

    def check_landmarks(self, project: Project, payload: Any) -> bool | None:
        """For hand/pose projects: True if the tracker finds a hand/body in the picture,
        else a LabkitError (code no_hand / no_body) — such a picture teaches nothing, and
        training would skip it anyway. None for other kinds."""
        if project.kind not in ("hand", "pose"):
            return None
        tracker = self.tracker(project.kind)
        if tracker is None:
            raise LabkitError(
                _("Hand and body-pose projects need the vision models, which are not installed."),
                code="no_model", fix=_("Ask the teacher to run: labkit models fetch"))
        if tracker(np.asarray(payload)) is not None:
            return True
        if project.kind == "hand":
            raise LabkitError(_("No hand was found in the picture, so it was not kept."),
                              code="no_hand",
                              fix=_("Hold your whole hand in front of the camera, in good "
                                    "light, and record again."))
        raise LabkitError(_("No body was found in the picture, so it was not kept."),
                          code="no_body",
                          fix=_("Step back until your whole body is in the picture, then "
                                "record again."))

    def add_upload(self, project: Project, class_id: str, data: bytes,
                   filename: str = "") -> Any:
        """An uploaded file as a sample, with the same checks as a live capture."""
        check = ((lambda payload: self.check_landmarks(project, payload))
                 if project.kind in ("hand", "pose") else None)
        sample = project.add_upload(class_id, data, filename, check=check)
        self.sample_saved(project, sample.id)
        return sample

    # ---- training -----------------------------------------------------------------------
    def start_training(self, project_id: str, classifier: str = "logistic") -> dict[str, Any]:
        project = self.projects.get(project_id)
        if classifier not in CLASSIFIERS:
            raise LabkitError(_("Unknown classifier kind %(kind)s.", kind=repr(classifier)),
                              code="bad_kind", fix=_("Use logistic, knn or mlp."))
        from labkit.learn.background import ensure_background
        from labkit.models.trainable import check_class_counts

        ensure_background(project)               # a sound project never lacks its background
        check_class_counts(project.counts())     # answer at once, not from the thread
        if not self._train_lock.acquire(blocking=False):
            raise LabkitError(_("The kit is already training a model."), code="busy",
                              fix=_("Wait a few seconds and try again."))
        job = {"project": project_id, "state": "running", "stage": "start", "fraction": 0.0,
               "message": "", "started": time.time()}
        with self._lock:
            self._jobs[project_id] = job
        self._publish(job)
        thread = threading.Thread(target=self._train, args=(project, classifier, job),
                                  name="labkit-learn-train", daemon=True)
        thread.start()
        return dict(job)

    def _train(self, project: Project, classifier: str, job: dict[str, Any]) -> None:
        last = [0.0]

        def progress(stage: str, fraction: float, message: str) -> None:
            job.update(stage=stage, fraction=round(fraction, 3), message=message)
            now = time.monotonic()
            if now - last[0] > 0.1 or stage == "done":
                last[0] = now
                self._publish(job)

        ended: dict[str, Any] = {}
        try:
            ended = self._train_job(project, classifier, progress)
        finally:
            self._end_job(project, job, ended)

    def _train_job(self, project: Project, classifier: str,
                   progress: Callable[[str, float, str], None]) -> dict[str, Any]:
        """Train in the worker child and keep the model; what the job says at its end."""
        try:
            self._features.wait_idle(project.id, FEATURES_WAIT_S)
            result = self._worker.run({"project": project.id, "classifier": classifier,
                                       "data_dir": str(self.projects.root.parent),
                                       # the child opens the key itself: its path, not the key
                                       "key_path": str(self.projects.sealer.key_path)},
                                      progress)
            with project.lock:
                project.model = result["model"]
                project.save()
            return {"state": "done", "fraction": 1.0, "stage": "done",
                    "report": result["report"], "features_cached": result.get("cache")}
        except TrainingCrashed as exc:
            if exc.code == "train_stopped":
                return {"state": "error", "code": exc.code,
                        "message": _("Training was stopped: the kit was made ready for the "
                                     "next class."), "fix": _("Press Train to train again.")}
            return {"state": "error", "code": exc.code,
                    "message": _("Training stopped unexpectedly. The kit is fine: press Train "
                                 "to try again."),
                    "fix": _("If it happens again, delete some samples and train again.")}
        except LabkitError as exc:
            return {"state": "error", "message": exc.message, "fix": exc.fix, "code": exc.code}
        except Exception as exc:  # a bug must still end the job visibly
            log.exception("training %s failed", project.id)
            return {"state": "error", "code": "internal",
                    "message": str(_("Training failed: %(why)s", why=str(exc)))}

    def _end_job(self, project: Project, job: dict[str, Any], ended: dict[str, Any]) -> None:
        """Say the job has ended only once the kit can train again.

        A page polling the job trains again the moment it reads "done" or "error": the end is
        written and the training lock let go under the service lock, which `job()` reads
        under, so no reader sees an ended job while the kit would still answer busy."""
        with self._lock:
            self._predictors.pop(project.id, None)
            job.update(ended)
            self._train_lock.release()
        self._publish(job)

    def job(self, project_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(project_id)
            return dict(job) if job else None

    def train_now(self, project_id: str, classifier: str = "logistic") -> TrainReport:
        """Synchronous training (CLI, tests, benchmark)."""
        from labkit.learn.background import ensure_background

        project = self.projects.get(project_id)
        ensure_background(project)
        extractor = self.extractor(project)
        use_cache(extractor, FeatureCache(project.root, extractor.name, project.sealer))
        with self._train_lock:
            report = train_project(project, extractor, classifier=classifier)
        with self._lock:
            self._predictors.pop(project_id, None)
        return report

    def quantisation_experiment(self, project_id: str) -> dict[str, Any]:
        """The 量化实验 lab: the project's samples as float32 and int8 models, measured on this
        kit (labkit.learn.quantlab), published as `learn.quantized` for the lab's checks."""
        from labkit.learn.model import extract_all, load_samples
        from labkit.learn.quantlab import run_experiment

        project = self.projects.get(project_id)
        extractor = self.extractor(project)
        use_cache(extractor, FeatureCache(project.root, extractor.name, project.sealer))
        with self._train_lock:
            payloads, labels, _ids, _skipped = load_samples(project)
            X = extract_all(extractor, payloads)
            keep = np.flatnonzero(np.isfinite(X).all(axis=1))
            result = run_experiment(X[keep], [labels[i] for i in keep],
                                    publish=self.runtime.bus.publish)
        return {"project": project.id, **result.summary(), "comparison": result}

    # ---- export and import ----------------------------------------------------------------
    def start_export(self, project_id: str, *, samples: bool = False,
                     passphrase: str | None = None) -> dict[str, Any]:
        """Build the project's export in the background (`learn.export` events, or poll
        `export_job`); `export_download` then hands the file over once. Bad requests (no
        model and no samples, a short passphrase) are answered at once."""
        import secrets

        from labkit.learn.exchange import build_export, check_exportable, check_passphrase

        project = self.projects.get(project_id)
        passphrase = check_passphrase(passphrase)
        check_exportable(project, samples=samples)

        def work(progress: Any) -> dict[str, Any]:
            filename, data = build_export(
                project, samples=samples, passphrase=passphrase,
                progress=lambda stage, fraction: progress(stage, round(fraction * 1000), 1000))
            return {"filename": filename, "bytes": len(data), "data": data}

        return self._exports.start(project_id, work, project=project_id,
                                   token=secrets.token_urlsafe(12), samples=bool(samples),
                                   encrypted=passphrase is not None)

    EXPORT_KEEP_S = 600.0        # an export not downloaded is dropped after this long

    def export_job(self, project_id: str) -> dict[str, Any] | None:
        return self._exports.get(project_id)

    def export_download(self, project_id: str, token: str) -> tuple[str, bytes]:
        """The finished export's file (handed over once: samples do not linger in memory)."""
        taken = self._exports.take(project_id, "data", lambda job: job.get("token") == token)
        if taken is None:
            raise LabkitError(_("There is no finished export to download."),
                              code="not_found", fix=_("Press Export again."))
        job, data = taken
        return job["filename"], data

    def import_project(self, data: bytes, *, passphrase: str | None = None,
                       owner: int | None = None) -> Project:
        """An export from this or another kit, back as a project of `owner`; image samples
        get their features computed in the background, ready for Train."""
        from labkit.learn.exchange import import_project

        project = import_project(self.projects, data, passphrase=passphrase or None,
                                 owner=owner, store=self.store)
        with project.lock:
            ids = [s.id for _c, s in project.iter_samples()]
        for sample_id in ids:
            self.sample_saved(project, sample_id)
        return project

    def _publish(self, job: dict[str, Any]) -> None:
        data = {k: v for k, v in job.items() if k != "report"}
        self.runtime.bus.publish("learn.progress", data)

    # ---- prediction and actions -----------------------------------------------------------
    def predictor(self, project: Project) -> Predictor:
        stamp = (project.model or {}).get("trained_at", "")
        with self._lock:
            cached = self._predictors.get(project.id)
            if cached and cached[0] == stamp:
                return cached[1]
        tracker = self.tracker(project.kind) if project.kind in ("hand", "pose") else None
        predictor = Predictor(project, store=self.store, tracker=tracker)
        with self._lock:
            self._predictors[project.id] = (stamp, predictor)
        from labkit.models.runtime import release_freed_memory

        release_freed_memory()      # the opened graph's bytes are garbage now
        return predictor

    def predict_live(self, project_id: str, *, act: bool = True) -> dict[str, Any]:
        project = self.projects.get(project_id)
        predictor = self.predictor(project)
        result = predictor.predict(self.live_payload(project))
        result["project"] = project_id
        if act:
            result["action"] = self.apply_actions(project, result)
        self.runtime.bus.publish("learn.prediction", result)
        return result

    def set_action(self, project_id: str, class_id: str, action: Any) -> dict[str, Any]:
        project = self.projects.get(project_id)
        with project.lock:
            project.get_class(class_id)
            clean = check_action(action)
            if clean["type"] == "none":
                project.actions.pop(class_id, None)
            else:
                project.actions[class_id] = clean
            project.save()
        self._last_label.pop(project_id, None)
        return clean

    def apply_actions(self, project: Project, result: dict[str, Any]) -> dict[str, Any] | None:
        """Drive the bound device when the predicted class changes (and is sure enough)."""
        label = result.get("label") if result.get("confidence", 0) >= MIN_CONFIDENCE else None
        if label is None or self._last_label.get(project.id) == label:
            return None
        class_id = next((c.id for c in project.classes if c.name == label), None)
        action = project.actions.get(class_id or "")
        if not action:
            self._last_label[project.id] = label
            return None
        try:
            self.do_action(action, project.name)
        except PinsBusy:
            raise   # a lab (or someone else) holds the outputs: the page says who (409)
        except Exception as exc:  # a missing device must not stop the predictions
            log.warning("action %s failed: %s", action, exc)
            self._last_label[project.id] = label
            return {**action, "error": str(exc)}
        self._last_label[project.id] = label
        return action

    def do_action(self, action: dict[str, Any], project_name: str = "") -> None:
        """Drive one device, holding the kit's pin lease for it (PinsBusy if a lab runs)."""
        pins = getattr(self.runtime, "pins", None)
        if pins is None or action["type"] == "say":
            self._drive(action)
            return
        with pins.lease(Holder("learn", "learn", project_name)):
            self._drive(action)

    def _drive(self, action: dict[str, Any]) -> None:
        kit = self.runtime.kit
        kind, value = action["type"], action.get("value")
        if kind == "led":
            kit.led.on() if value == "on" else kit.led.off()
        elif kind == "rgb":
            kit.rgb.color = COLOURS[value]
        elif kind == "buzzer":
            buzzer = kit.buzzer
            if value == "off":
                buzzer.stop()
            else:
                from gpiozero.tones import Tone

                buzzer.play(Tone(value))
        elif kind == "servo":
            kit.servo.angle = value
        elif kind == "say":
            lang = getattr(self.runtime.settings, "lang", "zh_CN")
            threading.Thread(target=self._say, args=(value, lang), daemon=True).start()

    def _say(self, text: str, lang: str) -> None:
        try:
            self.runtime.speaker.say(text, lang)
        except Exception as exc:
            log.warning("cannot speak: %s", exc)

    def forget_temporary(self, wait_s: float = 5.0) -> dict[str, int]:
        """Make the service as a new class finds it: a training job stopped, and what lives
        only in memory dropped (finished jobs, exports not downloaded — they may hold a
        child's samples —, live predictors and the last predicted labels, the sensor
        buffer). Projects on disk, their samples and models stay: they are the students'."""
        stopped = int(self._worker.stop_job())
        if self._train_lock.acquire(timeout=wait_s):   # the job's thread has finished
            self._train_lock.release()
        with self._lock:
            jobs, exports = len(self._jobs), len(self._exports)
            self._jobs.clear()
            self._exports.clear()
            self._predictors.clear()
            self._last_label.clear()
            sampler, self._sampler = self._sampler, None
        if sampler is not None:
            sampler.close()
        return {"training_stopped": stopped, "jobs": jobs, "exports": exports}

    def close(self) -> None:
        if self._sampler is not None:
            self._sampler.close()
        self._features.close()
        self._worker.close()
