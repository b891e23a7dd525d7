"""Detector names → the labkit.vision / labkit.audio_ai classes behind them (imported lazily).

A lab says what it uses by name (`faces: {detector: face}`); this table knows what each name
needs (camera or microphone, the kit's model store), which overlay the page draws for it and
which SSE topic carries its results. Adding a detector to the kit is one `DetectorType` here
(see docs/lab-format.md, "How to add a detector").

Detectors built for a lab get no camera or microphone of their own: the runner hands every
frame to `detect(frame)` and every audio block to `feed(block)`, so one clock — real or
simulated — drives them all and the log is written right after each result.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

CAMERA, MICROPHONE = "camera", "microphone"


@dataclass(frozen=True)
class DetectorType:
    name: str
    target: str                      # "module:Class"
    source: str                      # CAMERA or MICROPHONE
    overlay: str | None = None       # what the page draws (faces, hands, pose …)
    topic: str | None = None         # the SSE topic of its results (vision.face …)
    store: bool = False              # needs the kit's model store
    every: int = 1                   # run on every n-th frame (slow models)
    defaults: dict[str, Any] = field(default_factory=dict)
    wrap: Callable[[Any, dict[str, Any]], Any] | None = None  # build a device around it
    wrap_params: tuple[str, ...] = ()
    #: options that are themselves a detector's use (`demo: {detector: sorter, …}`): built
    #: first, fed by the outer detector, and passed to it built
    nested: tuple[str, ...] = ()

    def load_class(self) -> type:
        module, cls = self.target.split(":")
        return getattr(importlib.import_module(module), cls)


def _rep_counter(tracker: Any, params: dict[str, Any]) -> Any:
    from labkit.vision.reps import RepCounter

    return RepCounter(tracker, params.get("exercise", "squat"))


def _door_counter(detector: Any, params: dict[str, Any]) -> Any:
    from labkit.vision.linecount import DoorCounter

    return DoorCounter(detector, **params)


def _rps_game(tracker: Any, params: dict[str, Any]) -> Any:
    from labkit.vision.rps import RpsGame

    return RpsGame(tracker, params.get("mode", "fair"))


def _read_aloud(reader: Any, params: dict[str, Any]) -> Any:
    from labkit.drivers.audio import Speaker
    from labkit.vision.read_aloud import ReadAloud

    speaker = Speaker(bus=getattr(reader, "bus", None)).prepare()
    return ReadAloud(reader, lambda text, lang: speaker.say(text, lang),
                     min_results=int(params.get("min_results", 2)))


DETECTORS: dict[str, DetectorType] = {d.name: d for d in (
    DetectorType("face", "labkit.vision.faces:FaceDetector", CAMERA, "faces", "vision.face",
                 store=True),
    DetectorType("hands", "labkit.vision.hands:HandTracker", CAMERA, "hands", "vision.hands",
                 store=True),
    DetectorType("pose", "labkit.vision.pose:PoseTracker", CAMERA, "pose", "vision.pose",
                 store=True),
    DetectorType("rps", "labkit.vision.hands:HandTracker", CAMERA, "hands", "vision.hands",
                 store=True, wrap=_rps_game, wrap_params=("mode",)),
    DetectorType("reps", "labkit.vision.pose:PoseTracker", CAMERA, "pose", "vision.pose",
                 store=True, wrap=_rep_counter, wrap_params=("exercise",)),
    DetectorType("people", "labkit.vision.people:PeopleDetector", CAMERA, "people",
                 "vision.people", store=True),
    DetectorType("line_counter", "labkit.vision.people:PeopleDetector", CAMERA, "people",
                 "vision.people", store=True, wrap=_door_counter,
                 wrap_params=("line", "direction", "limit", "margin", "min_frames")),
    DetectorType("segmentation", "labkit.vision.segmentation:Segmenter", CAMERA,
                 "segmentation", "vision.segmentation", store=True),
    DetectorType("emotion", "labkit.vision.emotion:EmotionClassifier", CAMERA, "emotion",
                 "vision.emotion", store=True),
    DetectorType("text", "labkit.vision.ocr:TextReader", CAMERA, "text", "vision.ocr",
                 store=True, every=5),
    DetectorType("read_aloud", "labkit.vision.ocr:TextReader", CAMERA, "text", "vision.ocr",
                 store=True, every=5, wrap=_read_aloud, wrap_params=("min_results",)),
    DetectorType("colour", "labkit.vision.colour:ColourTracker", CAMERA, "colour",
                 "vision.colour"),
    DetectorType("shapes", "labkit.vision.shapes:ShapeFinder", CAMERA, "shapes",
                 "vision.shapes"),
    DetectorType("sorter", "labkit.learn.sorter:ImageSorter", CAMERA, None, "vision.sorter",
                 every=2),
    DetectorType("teachable", "labkit.learn.teachable:TeachableDetector", CAMERA, None,
                 "vision.teachable", store=True, every=2, nested=("demo",)),
    DetectorType("sound_level", "labkit.audio_ai.level:SoundLevel", MICROPHONE),
    DetectorType("claps", "labkit.audio_ai.clap:ClapDetector", MICROPHONE),
    DetectorType("voice", "labkit.audio_ai.vad:VoiceActivity", MICROPHONE, store=True),
    DetectorType("commands", "labkit.audio_ai.kws:VoiceCommands", MICROPHONE),
    DetectorType("command_words", "labkit.audio_ai.commands:CommandWords", MICROPHONE),
    DetectorType("sound_words", "labkit.learn.sound_words:SoundWords", MICROPHONE, store=True),
)}


#: detectors that answer with a student's own /learn project once one is picked for the run
#: (web/lab_models.py): name → the project kind they take (None: the use's `kind:`, image)
TAUGHT: dict[str, str | None] = {"teachable": None, "sound_words": "sound"}


def taught_kind(use: dict[str, Any]) -> str | None:
    """The /learn project kind a detector's use takes (None: it takes no project)."""
    name = str(use.get("detector"))
    if name not in TAUGHT:
        return None
    return TAUGHT[name] or str(use.get("kind", "image"))


@dataclass
class BuiltDetector:
    """One detector of a running lab: the device expressions read (`device`) and the model
    the runner feeds (`feeds`, the same object unless the device wraps a tracker)."""

    name: str
    kind: DetectorType
    device: Any
    feeds: Any
    every: int
    frames: int = 0
    shared: bool = False      # follows another detector's model: it neither feeds nor closes it

    def close(self) -> None:
        owned = {id(self.device): self.device}
        if not self.shared:
            owned[id(self.feeds)] = self.feeds
        for obj in owned.values():
            close = getattr(obj, "close", None)
            if callable(close):
                close()


def build(name: str, kind: DetectorType, params: dict[str, Any], *, store: Any,
          bus: Any) -> BuiltDetector:
    """Create detector `name` of `kind` with the lab's `params` (no camera/mic: fed)."""
    params = dict(params)
    every = int(params.pop("every", kind.every))
    wrap_params = {k: params.pop(k) for k in kind.wrap_params if k in params}
    for key in kind.nested:
        inner = params.get(key)
        if isinstance(inner, dict) and "detector" in inner:
            sub = {k: v for k, v in inner.items() if k != "detector"}
            sub.pop("every", None)        # the outer detector decides when to look
            params[key] = build(f"{name}.{key}", DETECTORS[inner["detector"]], sub,
                                store=store, bus=bus).device
    kwargs = {**kind.defaults, **params}
    cls = kind.load_class()
    if kind.source == CAMERA:
        kwargs.setdefault("bus", bus)
        kwargs["start"] = False
    if kind.store:
        kwargs["store"] = store
    model = cls(**kwargs)
    device = kind.wrap(model, wrap_params) if kind.wrap else model
    return BuiltDetector(name, kind, device, model, max(1, every))


def build_shared(name: str, kind: DetectorType, params: dict[str, Any],
                 tracker: BuiltDetector) -> BuiltDetector:
    """A second counter or game around `tracker`'s model (`tracker: arms` in lab.yaml): two
    rep counters on one pose tracker run the pose model once per frame, not twice."""
    if kind.wrap is None or tracker.kind.target != kind.target:
        raise ValueError(f"{name} cannot share the model of {tracker.name}")
    wrap_params = {k: params[k] for k in kind.wrap_params if k in params}
    device = kind.wrap(tracker.feeds, wrap_params)
    return BuiltDetector(name, kind, device, tracker.feeds, tracker.every, shared=True)
