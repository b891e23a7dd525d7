"""A lab's detector that runs a model the students taught on /learn — or a built-in demo
detector until they pick one.

    uses:
      sorter: {detector: teachable, kind: image,
               demo: {detector: sorter, examples: waste},          # until a project is picked
               classes: {recyclable: [可回收物, recyclable], kitchen: [厨余垃圾, kitchen]}}

Why one device for both: the lab's bindings, signals and checks read `sorter.label` whichever
model answers, so a lesson works the same before and after a student picks their own project
(the demo also keeps the lab's demo scenario green, with no student project on the kit).

The student's class names are matched to the lab's targets (`classes:`, each target with the
names it accepts in Chinese and English, compared as /learn compares names); a class no target
accepts is "unmapped" and answers nothing, a target no class names is "missing" — the page says
both. Without `classes:` every class answers with its own name.

For labs that drive outputs from a class rather than a fixed label (the gesture remote), two
sub-signals follow the student's own choices on /learn: `colour` (the RGB colour the class's
/learn action names, else the lab's `colours:` for that label, else the next colour of a fixed
palette by the class's place) and `buzz` (the class's /learn action is the buzzer, or the label
is one of the lab's `buzz:` names).

The report card (`report`) of a picked project is its held-out figures from training
(labkit/learn/model.py: accuracy, per class, confusion matrix, the mistakes), never a figure
measured on the samples it learned; a demo detector's own `report` is passed on as it is.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _
from labkit.learn.dataset import Project
from labkit.learn.names import name_key
from labkit.vision.device import Signal, VisionDetector
from labkit.vision.frames import Prepared

#: the label for "nothing there" (a sorter's empty table, a class mapped to it)
EMPTY = "empty"
#: a project's answer must be this much surer than guessing (1 / number of classes), else it
#: is "" (not sure): an output need not follow a guess. Its confidences are calibrated by
#: its held-out skill (labkit/models/evaluation.py), so a model that only guessed on the
#: samples it did not learn from never drives an output
ABOVE_GUESSING = 0.15
#: colours given to classes in their order when neither /learn nor the lab names one
PALETTE = ("green", "red", "blue", "yellow", "purple", "cyan", "white")
REPORT_EVERY_SECONDS = 2.0
#: project kinds a camera can feed
CAMERA_KINDS = ("image", "hand", "pose")


@dataclass(frozen=True)
class TeachResult:
    """One answer: `label` (mapped, "" when unsure or unmapped), the class it came from and
    the model that gave it (`source`: demo | project)."""

    label: str
    confidence: float
    source: str
    raw: str = ""
    probabilities: dict[str, float] = field(default_factory=dict)


def match_classes(names: Iterable[str], targets: dict[str, Iterable[str]] | None,
                  optional: Iterable[str] = (EMPTY,)) -> dict[str, Any]:
    """The student's class names against the lab's targets.

    Returns {"mapped": {class name: target}, "missing": [targets no class names],
    "unmapped": [classes no target accepts]}; a target accepts its own id and each of its
    names, compared NFKC case-folded (全角/半角 alike). `optional` targets are never missing.
    Without targets every class maps to itself."""
    names = list(names)
    if not targets:
        return {"mapped": {n: n for n in names}, "missing": [], "unmapped": []}
    accepts: dict[str, str] = {}
    for target, aliases in targets.items():
        for alias in (target, *aliases):
            accepts.setdefault(name_key(str(alias)), target)
    mapped = {n: accepts[name_key(n)] for n in names if name_key(n) in accepts}
    found = set(mapped.values())
    skip = set(optional)
    return {"mapped": mapped,
            "missing": [t for t in targets if t not in found and t not in skip],
            "unmapped": [n for n in names if n not in mapped]}


def project_report(project: Project) -> dict[str, Any]:
    """A trained project's held-out report card, in the shape the lab page's confusion part
    reads (the sorter's): classes, measured, accuracy, chance, n_test, n_train, per_class,
    confusion, warnings, mistakes. The figures are those of training: measured on samples
    held out before augmentation (labkit/models/evaluation.py)."""
    model = project.model or {}
    saved = model.get("report") or {}
    card = saved.get("card") or {}
    if not card:
        raise LabkitError(_("This project has no trained model yet."), code="not_trained",
                          fix=_("Press Train first."))
    mistakes = [{"item": "", "true": m.get("true"), "predicted": m.get("predicted"),
                 "confidence": round(float(m.get("confidence", 0.0)), 3)}
                for m in saved.get("misclassified") or ()]
    return {"classes": list(card.get("classes") or ()), "measured": bool(card.get("measured")),
            "accuracy": card.get("accuracy"), "chance": card.get("chance"),
            "n_test": int(card.get("n_test") or 0), "n_train": int(card.get("n_train") or 0),
            "per_class": card.get("per_class") or {}, "confusion": card.get("confusion") or [],
            "warnings": card.get("warnings") or [], "mistakes": mistakes,
            "source": "project", "project": {"id": project.id, "name": project.name}}


def check_pickable(project: Project, kind: str) -> None:
    """A clear LabkitError unless `project` can answer for a detector of `kind`."""
    if project.kind != kind:
        raise LabkitError(
            _("This lab needs a %(wanted)s project, and %(name)s is a %(kind)s project.",
              wanted=kind, name=project.name, kind=project.kind),
            code="wrong_kind", fix=_("Pick one of your %(wanted)s projects, or make one on the "
                                     "Teach the computer page.", wanted=kind))
    if not project.model:
        raise LabkitError(_("%(name)s has no trained model yet.", name=project.name),
                          code="not_trained", fix=_("Open it on the Teach the computer page "
                                                    "and press Train first."))


class _Picked:
    """A project chosen for the lab: its predictor and what its classes stand for."""

    def __init__(self, project: Project, predictor: Any, targets: dict[str, Any] | None,
                 optional: Iterable[str], colours: dict[str, str],
                 buzz: frozenset[str]) -> None:
        self.id, self.name = project.id, project.name
        self.predictor = predictor
        classes = list(predictor.classes)
        self.match = match_classes(classes, targets, optional)
        actions = dict(project.actions or {})
        by_name = {c.name: c.id for c in project.classes}
        self.colour: dict[str, str] = {}
        self.buzz: set[str] = set()
        palette = iter(PALETTE)
        for name in classes:
            action = actions.get(by_name.get(name, ""), {})
            label = self.match["mapped"].get(name, "")
            sounds = action.get("type") == "buzzer" and action.get("value") != "off"
            if sounds or name_key(label) in buzz or name_key(name) in buzz:
                self.buzz.add(name)
            if action.get("type") == "rgb" and action.get("value") in PALETTE + ("off",):
                self.colour[name] = str(action["value"])
            elif label in colours:
                self.colour[name] = colours[label]
            else:
                self.colour[name] = next(palette, "white")
        self.report = project_report(project)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, **self.match,
                "colours": dict(self.colour), "buzz": sorted(self.buzz)}


class TeachableDetector(VisionDetector[TeachResult]):
    """A student's /learn model (once picked with `use_project`), else the `demo` detector.

    kind        the /learn project kind it takes: image | hand | pose
    demo        a built vision detector answering until a project is picked (or None)
    classes     target → names it accepts (see match_classes); optional: targets never missing
    colours     label → colour name for the `colour` sub-signal (the demo's labels, and a
                project class whose label is one of them)
    buzz        labels (or class names) for which `buzz` is 1
    min_confidence  a project's answer below this is "" (not sure); None: 1 / classes + 0.15
    """

    topic = "vision.teachable"

    def __init__(self, camera: Any = None, *, kind: str = "image", demo: Any = None,
                 classes: dict[str, list[str]] | None = None, optional: list[str] | None = None,
                 colours: dict[str, str] | None = None, buzz: list[str] | None = None,
                 min_confidence: float | None = None, store: Any = None,
                 **kwargs: Any) -> None:
        if kind not in CAMERA_KINDS:
            raise ValueError(f"kind must be one of {', '.join(CAMERA_KINDS)}, not {kind!r}")
        if min_confidence is not None and not 0.0 <= float(min_confidence) < 1.0:
            raise ValueError("min_confidence must be from 0 to below 1")
        if classes is not None and not isinstance(classes, dict):
            raise ValueError("classes must map each target to the class names it accepts")
        self.kind = kind
        self.demo = demo
        self.store = store
        self.targets = {str(t): [str(a) for a in (names or ())]
                        for t, names in (classes or {}).items()} or None
        self.optional = tuple(optional if optional is not None else (EMPTY,))
        self.colours = {str(k): str(v) for k, v in (colours or {}).items()}
        self.buzz_names = frozenset(name_key(str(b)) for b in (buzz or ()))
        self.min_confidence = None if min_confidence is None else float(min_confidence)
        self._picked: _Picked | None = None
        self._tracker: Any = None
        self._pick_lock = threading.Lock()
        super().__init__(camera, **kwargs)
        self._report_sent = float("-inf")
        self.json_extras.append(self._extra)

    # ---- choosing the model -------------------------------------------------------------
    @property
    def picked(self) -> dict[str, Any] | None:
        """The picked project (id, name, mapping, colours, buzz), None while the demo answers."""
        picked = self._picked
        return picked.describe() if picked is not None else None

    def use_project(self, project: Project | None) -> dict[str, Any] | None:
        """Answer with `project`'s trained model from the next frame on (None: the demo
        again). A project of another kind, or one never trained, is a clear LabkitError and
        changes nothing."""
        if project is None:
            with self._lock:
                self._picked = None
                self._report_sent = float("-inf")
            return None
        check_pickable(project, self.kind)
        from labkit.learn.model import Predictor

        with self._pick_lock:
            predictor = Predictor(project, store=self.store, tracker=self._landmarks())
            picked = _Picked(project, predictor, self.targets, self.optional, self.colours,
                             self.buzz_names)
        with self._lock:
            self._picked = picked
            self._report_sent = float("-inf")   # the new report card goes out at once
        return picked.describe()

    def _landmarks(self) -> Any:
        """Hand/pose projects need landmarks: from the demo's own tracker when it is one (the
        page's overlay then keeps following the hand), else a tracker of our own."""
        if self.kind == "image":
            return None
        if self._tracker is None:
            from labkit.learn.features import _tracker_adapter, vision_tracker
            from labkit.vision.hands import HandTracker
            from labkit.vision.pose import PoseTracker

            wanted = HandTracker if self.kind == "hand" else PoseTracker
            if isinstance(self.demo, wanted):
                self._tracker = _tracker_adapter(self.demo, self.kind)
            else:
                self._tracker = vision_tracker(self.kind, self.store)
            if self._tracker is None:
                raise LabkitError(_("Hand and body-pose projects need the vision models, "
                                    "which are not installed."), code="no_model",
                                  fix=_("Ask the teacher to run: labkit models fetch"))
        return self._tracker

    # ---- detection ----------------------------------------------------------------------
    def _detect(self, frame: Prepared) -> TeachResult:
        picked = self._picked
        if picked is not None:
            answer = picked.predictor.predict(frame.image)
            raw = answer.get("label") or ""
            confidence = float(answer.get("confidence") or 0.0)
            label = picked.match["mapped"].get(raw, "") if raw else ""
            if confidence < self._threshold(len(picked.predictor.classes)):
                label = ""
            return TeachResult(label, confidence, "project", raw,
                               dict(answer.get("probabilities") or {}))
        if self.demo is None:
            return TeachResult("", 0.0, "none")
        result = self.demo.detect(frame)
        count, label, score = self.demo.summary(result)
        return TeachResult(label if count else "", float(score), "demo", label)

    def _threshold(self, n_classes: int) -> float:
        if self.min_confidence is not None:
            return self.min_confidence
        return min(0.9, 1.0 / max(1, n_classes) + ABOVE_GUESSING)

    def summary(self, result: TeachResult) -> tuple[int, str, float]:
        found = result.label not in ("", EMPTY)
        return (1 if found else 0, result.label if found else "",
                result.confidence if found else 0.0)

    @property
    def report(self) -> dict[str, Any] | None:
        """The held-out report card of the model answering now (None: it has none)."""
        picked = self._picked
        if picked is not None:
            return picked.report
        report = getattr(self.demo, "report", None)
        return {**report, "source": "demo"} if isinstance(report, dict) else None

    def _extra(self) -> dict[str, Any]:
        picked = self._picked
        out: dict[str, Any] = {"source": "project" if picked else "demo",
                               "project": picked.describe() if picked else None}
        now = time.monotonic()
        if now - self._report_sent >= REPORT_EVERY_SECONDS:
            self._report_sent = now
            report = self.report
            if report is not None:
                out["report"] = report
        return out

    # ---- sub-signals --------------------------------------------------------------------
    def _figure(self, key: str) -> float:
        report = self.report or {}
        value = report.get(key)
        return float(value) if isinstance(value, (int, float)) else 0.0

    @property
    def accuracy(self) -> Signal:
        """Held-out accuracy 0–1 of the model answering now (0 when it could not be
        measured: never a made-up 100%)."""
        return self.signal("accuracy", lambda r: self._figure("accuracy"))

    @property
    def measured(self) -> Signal:
        """1 when the answering model's held-out accuracy could be measured."""
        return self.signal("measured", lambda r: 1 if (self.report or {}).get("measured")
                           else 0)

    @property
    def mistakes(self) -> Signal:
        """How many held-out samples the answering model got wrong."""
        return self.signal("mistakes", lambda r: len((self.report or {}).get("mistakes") or ()))

    @property
    def using_project(self) -> Signal:
        """1 while a student's own project answers (0: the built-in demo)."""
        return self.signal("using_project", lambda r: 1 if self._picked is not None else 0)

    @property
    def colour(self) -> Signal:
        """The colour name for the answer now ('off' when there is none)."""
        return self.signal("colour", lambda r: self._colour_of(r))

    @property
    def buzz(self) -> Signal:
        """1 while the answer is one the buzzer sounds for."""
        return self.signal("buzz", lambda r: 1 if self._buzzes(r) else 0)

    def bin_is(self, name: str) -> Signal:
        """1 while the answer is `name` (the same as label_is)."""
        return self.label_is(name)

    def _colour_of(self, result: TeachResult | None) -> str:
        if result is None or not result.label:
            return "off"
        picked = self._picked
        if result.source == "project" and picked is not None:
            return picked.colour.get(result.raw, "off")
        return self.colours.get(result.label, "off")

    def _buzzes(self, result: TeachResult | None) -> bool:
        if result is None or not result.label:
            return False
        picked = self._picked
        if result.source == "project" and picked is not None:
            return result.raw in picked.buzz
        return name_key(result.label) in self.buzz_names

    def close(self) -> None:
        demo = self.__dict__.get("demo")
        super().close()
        if demo is not None:
            demo.close()

