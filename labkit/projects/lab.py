"""A lab folder's lab.yaml made into a runnable Project (no Python needed for common labs).

`LabSpec` is the validated declaration (see docs/lab-format.md for every key); `make_project`
turns it into a `Project` subclass the runner runs like any other: `setup()` builds the
declared detectors (detectors.py) and resolves signals and bindings (bindings.py); the runner
then calls `hear()` with each audio block and `step()` with each frame or tick, and the lab
feeds its detectors, drives its bound outputs and logs its declared signals on every change.
Checks come from the vocabulary (vocabulary.py) or from the folder's checks.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gpiozero import GPIODevice, SmoothedInputDevice
from gpiozero.mixins import ValuesMixin

from labkit.projects.actions import Action, perform
from labkit.projects.base import CheckResult, LabContext, Project, check
from labkit.projects.bindings import COLOURS, Scope, reader, target
from labkit.projects.detectors import (CAMERA, DETECTORS, MICROPHONE, BuiltDetector, build,
                                       build_shared)
from labkit.projects.eventlog import EventLog

log = logging.getLogger(__name__)


class PinReading(ValuesMixin):
    """A smoothed gpiozero input (MotionSensor, LightSensor, Button…) read straight from its pin.

    gpiozero fills a smoothed input's queue from a thread sampling on the wall clock; a demo on a
    simulated clock plays seconds of scenario in milliseconds, so the queue would miss a motion
    that lasted "three seconds". The view keeps gpiozero's names (`value`, `values`,
    `is_active`, `motion_detected`, …) so lab expressions read the same on either clock.
    """

    def __init__(self, device: SmoothedInputDevice) -> None:
        self._device = device

    @property
    def value(self) -> int:
        # GPIODevice.value is the unsmoothed reading of the pin, active level taken into account
        return int(GPIODevice.value.fget(self._device))

    @property
    def is_active(self) -> bool:
        return bool(self.value)

    motion_detected = is_pressed = light_detected = is_active

    def __getattr__(self, name: str) -> Any:
        return getattr(self._device, name)

class _Reading:
    """A value an expression reads afresh every step (bindings.reader takes `.value`)."""

    def __init__(self, read: Callable[[], Any]) -> None:
        self._read = read

    @property
    def value(self) -> Any:
        return self._read()


class LastEvent:
    """The newest bus event a lab declared under `events:`, readable in its expressions.

    `teach_the_kit` lights the LED for the first thing the child taught it:
    `led.source: guessed.index_is(0)` — `index` is where the predicted label stands among the
    prediction's classes (`probabilities`, in the project's class order), -1 before any.
    """

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def update(self, data: dict[str, Any]) -> None:
        self.data = dict(data)

    @property
    def happened(self) -> bool:
        return bool(self.data)

    @property
    def label(self) -> Any:
        return self.data.get("label")

    @property
    def index(self) -> int:
        classes = list(self.data.get("probabilities") or self.data.get("classes") or ())
        label = self.label
        return classes.index(label) if label is not None and label in classes else -1

    def index_is(self, n: int) -> _Reading:
        """1 while the newest event's label is the n-th class (0 = the first)."""
        return _Reading(lambda: 1 if self.index == int(n) else 0)

    def label_is(self, label: str) -> _Reading:
        return _Reading(lambda: 1 if self.label == label else 0)


CheckFn = Callable[[EventLog], Any]

#: a demo presses a part's button with this bus event (`{part: trials, kind: other}`)
PART_TOPIC = "lab.part"


def text(value: Any, lang: str) -> str:
    """The `lang` text of a bilingual field (Chinese, then English, as fallbacks)."""
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("zh_CN") or value.get("en") or "")
    return "" if value is None else str(value)


@dataclass
class LabSpec:
    """One lab folder, validated: its id and band come from the folder."""

    id: str
    band: str
    folder: Path
    data: dict[str, Any]
    origin: str = "package"                       # "package" or "data" (an installed pack)
    checks: dict[str, tuple[CheckFn, str]] = field(default_factory=dict)  # id → (fn, what)

    # -- what it uses -------------------------------------------------------------------
    @property
    def uses(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("uses") or {})

    def detectors(self) -> dict[str, dict[str, Any]]:
        return {n: u for n, u in self.uses.items() if "detector" in u}

    def detector_kinds(self) -> dict[str, str]:
        """detector name → its kind (`words` → `commands`), for pages that name them."""
        return {n: str(u["detector"]) for n, u in self.detectors().items()}

    def sources(self) -> set[str]:
        """camera / microphone, from the detectors it uses."""
        return {DETECTORS[u["detector"]].source for u in self.detectors().values()}

    @property
    def wired(self) -> list[str]:
        """Kit devices of the lab's wiring, in order, once each."""
        out: list[str] = []
        for conn in self.data.get("wiring") or ():
            if conn["device"] not in out:
                out.append(conn["device"])
        return out

    @property
    def hardware(self) -> tuple[str, ...]:
        return tuple(s for s in (CAMERA, MICROPHONE) if s in self.sources()) + tuple(self.wired)

    def _kinds(self) -> list[Any]:
        """The DetectorType of every detector the lab builds, nested ones (`demo:`) too."""
        out = []
        for u in self.detectors().values():
            kind = DETECTORS[u["detector"]]
            out.append(kind)
            for key in kind.nested:
                inner = u.get(key)
                if isinstance(inner, dict) and inner.get("detector") in DETECTORS:
                    out.append(DETECTORS[inner["detector"]])
        return out

    def overlays(self) -> list[str]:
        """What the page draws over the camera: declared, else one per vision detector."""
        if "overlays" in self.data:
            return list(self.data["overlays"])
        out: list[str] = []
        for kind in self._kinds():
            if kind.overlay and kind.overlay not in out:
                out.append(kind.overlay)
        return out

    def overlay_topics(self) -> list[str]:
        out: list[str] = []
        for kind in self._kinds():
            topic = kind.topic
            if topic and topic not in out:
                out.append(topic)
        return out

    def panels(self) -> dict[str, Any]:
        """Which page panels the lab needs — derived from what it uses, never stated."""
        return {"camera": CAMERA in self.sources(), "microphone": MICROPHONE in self.sources(),
                "devices": self.wired, "overlays": self.overlays(),
                "parts": [part["part"] for part in self.parts()]}

    def part_names(self) -> list[str]:
        return [p if isinstance(p, str) else p["part"] for p in self.data.get("parts") or ()]

    def parts(self) -> list[dict[str, Any]]:
        """The page parts the lab asks for (labkit/projects/parts.py), beyond the derived
        panels. A part named alone (`talk`, `counter`, `mirror`, `teach`) is what a child works
        with that no detector or device implies; a part on a detector (`sliders`,
        `confusion`) comes with the detector's kind and result topic and its sliders' ranges."""
        from labkit.projects.parts import SLIDERS

        out: list[dict[str, Any]] = []
        for part in self.data.get("parts") or ():
            if isinstance(part, str):
                out.append({"part": part})
                continue
            kind = DETECTORS[self.uses[part["detector"]]["detector"]]
            out.append({"part": part["part"], "detector": part["detector"], "kind": kind.name,
                        "topic": kind.topic,
                        "sliders": [SLIDERS[s].as_dict() for s in part.get("sliders", ())]})
        return out

    # -- signals ------------------------------------------------------------------------
    def signals(self) -> dict[str, dict[str, Any]]:
        """name → {"value": expression, "label": {zh_CN, en} | None}."""
        out = {}
        for name, decl in (self.data.get("signals") or {}).items():
            if isinstance(decl, dict):
                out[name] = {"value": decl["value"], "label": decl.get("label")}
            else:
                out[name] = {"value": decl, "label": None}
        return out

    def neighbours_view(self, lang: str) -> list[dict[str, Any]]:
        """Each `neighbours:` use as the page's plot names it: its readings (labelled by the
        signal that shows `<reading>.value`, else by name) and its labels' names."""
        shown = {str(s["value"]): s["label"] for s in self.signals().values() if s["label"]}
        out = []
        for name, use in self.uses.items():
            if "neighbours" not in use:
                continue
            labels = list(use.get("labels", [0, 1]))
            names = list(use.get("names") or ())
            out.append({"name": name,
                        "compare": text(use.get("compare_label"), lang) if use.get("compare")
                        else "",
                        "features": [{"name": f, "label": text(shown.get(f"{f}.value"), lang) or f}
                                     for f in use["neighbours"]],
                        "labels": [{"value": v, "name": text(names[i], lang) if i < len(names)
                                    else str(v)} for i, v in enumerate(labels)]})
        return out

    def signal_labels(self, lang: str) -> dict[str, str]:
        return {n: text(s["label"], lang) for n, s in self.signals().items() if s["label"]}

    def events(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("events") or {})

    # -- lesson -------------------------------------------------------------------------
    def steps(self) -> list[dict[str, Any]]:
        return list(self.data.get("steps") or [])

    def step_bindings(self) -> list[tuple[str, str]]:
        """(step id, check id) per step; a step with an inline check has the step's id."""
        return [(s["id"], step_check_id(s)) for s in self.steps()]


def step_check_id(step: dict[str, Any]) -> str:
    """The check id a lab.yaml step names: itself, or the step's id for an inline call."""
    from labkit.projects.base import ID_PATTERN

    ref = str(step["check"])
    return ref if ID_PATTERN.fullmatch(ref) else str(step["id"])


class LabProject(Project):
    """The runnable form of a lab.yaml; subclasses are made by `make_project`."""

    spec: LabSpec
    tick_seconds = 0.05

    @classmethod
    def uses_camera(cls) -> bool:
        return CAMERA in cls.spec.sources()

    @classmethod
    def uses_microphone(cls) -> bool:
        return MICROPHONE in cls.spec.sources()

    @classmethod
    def picture_rule(cls) -> str | None:
        rule = cls.spec.data.get("pictures")
        return str(rule["faces"]) if rule else None

    # -- lifecycle ----------------------------------------------------------------------
    def setup(self, ctx: LabContext) -> None:
        self.built: list[BuiltDetector] = []
        self.vision: list[BuiltDetector] = []
        self.audio: list[BuiltDetector] = []
        self.readers: list[tuple[str, Callable[[], Any]]] = []
        self.outputs: list[tuple[Any, str, Callable[[], Any], list[Any]]] = []
        objects: dict[str, Any] = {}
        self._log = ctx.log
        self.neighbours: dict[str, Any] = {}
        self.trials: Any = None
        self._live_sent: dict[str, Any] = {}
        store = ctx.runtime.model_store
        try:
            for name, use in self.spec.uses.items():
                if "neighbours" in use:   # over readings declared before it
                    from labkit.projects.neighbours import Neighbours, comparison

                    compare = (comparison(str(use["compare"]), use["neighbours"])
                               if use.get("compare") else None)
                    knn = Neighbours(name, {f: objects[f] for f in use["neighbours"]},
                                     use.get("points") or [], k=use.get("k", 3),
                                     labels=use.get("labels", [0, 1]), compare=compare)
                    self.neighbours[name] = objects[name] = knn
                    continue
                if "device" in use:
                    device = ctx.kit.device(use["device"])
                    objects[name] = (PinReading(device) if getattr(ctx, "simulated", False)
                                     and isinstance(device, SmoothedInputDevice) else device)
                    continue
                params = {k: v for k, v in use.items() if k not in ("detector", "tracker")}
                if "tracker" in use:   # follows another detector's model, fed once for both
                    followed = next(d for d in self.built if d.name == use["tracker"])
                    det = build_shared(name, DETECTORS[use["detector"]], params, followed)
                    self.built.append(det)
                    objects[name] = det.device
                    continue
                det = build(name, DETECTORS[use["detector"]], params, store=store, bus=ctx.bus)
                self.built.append(det)
                (self.vision if det.kind.source == CAMERA else self.audio).append(det)
                objects[name] = det.device
            if "trials" in self.spec.part_names():
                from labkit.projects.trials import Trials

                self.trials = Trials({d.name: d.device for d in self.audio
                                      if hasattr(d.device, "heard_count")})
            self.last_events = {name: LastEvent() for name in self.spec.events()}
            objects.update(self.last_events)
            self._meter, self._meter_at = None, -1.0
            if self.audio:
                from labkit.audio_ai.level import SoundLevel

                self._meter = next((d.feeds for d in self.audio
                                    if isinstance(d.feeds, SoundLevel)), None) or SoundLevel()
            scope = Scope(objects, ctx.kit)
            for name, sig in self.spec.signals().items():
                if name in self.spec.wired and str(sig["value"]) == f"kit.{name}":
                    continue  # a kit device: the runner logs it from the bench already
                self.readers.append((name, reader(str(sig["value"]), scope)))
            wired = set(self.spec.wired)
            for tgt, expr in (self.spec.data.get("bindings") or {}).items():
                device, attr = target(tgt, ctx.kit, wired)
                self.outputs.append((device, attr, reader(str(expr), scope), [object()]))
            self.actions = [Action(name, reader(str(decl["when"]), scope), decl.get("say"),
                                   float(decl.get("beep", 0)))
                            for name, decl in (self.spec.data.get("actions") or {}).items()]
            self._buzzer = ctx.kit.device("buzzer") if "buzzer" in wired else None
        except Exception:
            self.teardown(ctx)
            raise

    METER_INTERVAL = 0.1   # seconds between `audio.level` readings for the page's meter

    def hear(self, ctx: LabContext, block: Any) -> None:
        """One block of microphone audio for every sound detector; the page's sound meter
        gets the level (the lab's own sound_level detector, else a private one) on the bus
        as `audio.level`, so the meter needs no other sound service running."""
        for det in self.audio:
            det.feeds.feed(block)
        meter = self._meter
        if meter is None:
            return
        if all(det.feeds is not meter for det in self.audio):
            meter.feed(block)
        now = ctx.log.clock()
        if now - self._meter_at >= self.METER_INTERVAL:
            self._meter_at = now
            ctx.bus.publish("audio.level", meter.reading())

    # -- live settings (the page's sliders, labkit/projects/parts.py) ----------------------
    def settings(self) -> dict[str, dict[str, float]]:
        """detector → {slider: current value} for every `sliders` part of the lab."""
        picture = getattr(self, "picture", {})
        out: dict[str, dict[str, float]] = {}
        for part in self.spec.parts():
            if part["part"] != "sliders":
                continue
            det = self._detector(part["detector"])
            tuned = det.feeds.thresholds() if hasattr(det.feeds, "thresholds") else {}
            out[part["detector"]] = {
                s["name"]: float(picture.get(s["name"], s["default"]) if s["target"] == "picture"
                                 else tuned.get(s["name"], s["default"]))
                for s in part["sliders"]}
        return out

    def apply_setting(self, ctx: LabContext, detector: str, name: str, value: Any
                      ) -> dict[str, dict[str, float]]:
        """Move one slider of a `sliders` part: a detector threshold (the next frame uses
        it) or a change to the picture before detection. Only sliders the lab lists may be
        moved; a LabkitError says what is wrong. Returns every slider's value."""
        from labkit.errors import LabkitError
        from labkit.errors import lazy_gettext as _
        from labkit.projects.parts import SLIDERS, check_value

        listed = {(p["detector"], s["name"]) for p in self.spec.parts()
                  if p["part"] == "sliders" for s in p["sliders"]}
        if (detector, name) not in listed:
            raise LabkitError(_("This lab has no slider %(name)s for %(detector)s.",
                                name=str(name)[:40], detector=str(detector)[:40]),
                              code="bad_input", fix=_("Use the sliders shown on the lab page."))
        number = check_value(name, value)
        if SLIDERS[name].target == "picture":
            self.picture = {**getattr(self, "picture", {}), name: number}
            self._picture_filter(ctx)
        else:
            self._detector(detector).feeds.tune(**{name: number})
        return self.settings()

    # -- a student's /learn model (labkit/learn/teachable.py) --------------------------------
    def teachable(self) -> dict[str, Any]:
        """detector name → its declaration, for every detector of the lab that answers with a
        student's /learn project (`teachable`, `sound_words`)."""
        from labkit.projects.detectors import TAUGHT

        return {n: u for n, u in self.spec.detectors().items() if u["detector"] in TAUGHT}

    def use_project(self, ctx: LabContext, detector: str, project: Any) -> dict[str, Any] | None:
        """Let `detector` answer with a student's trained /learn project (None: its demo
        again). A LabkitError says why not (no such teachable detector, wrong kind, untrained)."""
        from labkit.errors import LabkitError
        from labkit.errors import lazy_gettext as _

        if detector not in self.teachable():
            raise LabkitError(_("This lab has no teachable detector called %(name)s.",
                                name=str(detector)[:40]), code="bad_input",
                              fix=_("Pick the model on the lab page."))
        return self._detector(detector).device.use_project(project)

    def _detector(self, name: str) -> BuiltDetector:
        return next(d for d in self.built if d.name == name)

    def _picture_filter(self, ctx: LabContext) -> None:
        """On the real clock the camera itself shows the changed picture (the page's live
        view and every detector see the same); a run on a simulated clock changes each frame
        it renders (step)."""
        from labkit.drivers.degrade import degrade

        camera = getattr(ctx.runtime, "camera", None)
        if getattr(ctx, "simulated", False) or camera is None or not hasattr(camera, "filter"):
            return
        worse = {k: v for k, v in self.picture.items() if v}
        camera.filter = (lambda image: degrade(image, **worse)) if worse else None
        self._filter = camera.filter

    def step(self, ctx: LabContext, frame: Any) -> None:
        worse = {k: v for k, v in getattr(self, "picture", {}).items() if v}
        if frame is not None and worse and getattr(ctx, "simulated", False):
            from labkit.drivers.degrade import degrade

            frame = degrade(getattr(frame, "image", frame), **worse)
        if frame is not None:
            for det in self.vision:
                det.frames += 1
                if det.frames % det.every == 0 or det.frames == 1:
                    det.feeds.detect(frame)
        # what the lab saw is logged before what it does about it: the bench reports an
        # output's change with the moment it saw it, which must not come before the signal
        # the output follows
        for name, read in self.readers:
            ctx.signal(name, read())
        for device, attr, read, last in self.outputs:
            value = read()
            if value != last[0]:
                if attr == "color" and isinstance(value, str):
                    value = COLOURS.get(value, COLOURS["off"])   # a colour-name signal
                setattr(device, attr, tuple(value) if isinstance(value, list) else value)
                last[0] = value
        for action in getattr(self, "actions", ()):
            if action.poll():
                # a demo on a simulated clock only logs what would be said (no synthesis)
                speaker = None if getattr(ctx, "simulated", False) else ctx.runtime.speaker
                said = perform(action, speaker=speaker, buzzer=self._buzzer,
                               lang=ctx.settings.lang)
                ctx.log.record("model", action.name, said or True)
        self._class_parts_step(ctx)

    # -- what the class changes while it runs (the neighbours and trials parts) ------------
    def _class_parts_step(self, ctx: LabContext) -> None:
        """Close a trial the recogniser has decided; send the plot's moving point when the
        reading, its nearest points or the vote changed."""
        if self.trials is not None:
            result = self.trials.poll(ctx.log.clock())
            if result is not None:
                ctx.log.record("model", "trial", result)
                ctx.bus.publish("lab.trials", self.part_state("trials"))
        for name, knn in self.neighbours.items():
            if name not in self._live_sent:     # the run's first tick: the whole plot
                self._live_sent[name] = knn.live()
                ctx.bus.publish("lab.neighbours", knn.state())
                continue
            live = knn.live()
            if live != self._live_sent[name]:
                self._live_sent[name] = live
                ctx.bus.publish("lab.neighbours", {"name": name, "live": live})

    def part_state(self, part: str, name: str | None = None) -> dict[str, Any]:
        """What the page part shows now (the `neighbours` or `trials` part)."""
        from labkit.errors import LabkitError
        from labkit.errors import lazy_gettext as _

        if part == "trials" and self.trials is not None:
            from labkit.projects.trials import figures

            return {"figures": figures(self._log.entries("trial")),
                    "open": (self.trials.open or {}).get("kind"),
                    "last": [e.value for e in self._log.entries("trial")][-10:]}
        if part == "neighbours" and self.neighbours:
            knn = self.neighbours.get(name or next(iter(self.neighbours)))
            if knn is not None:
                return knn.state()
        raise LabkitError(_("This lab has no %(part)s part.", part=str(part)[:20]),
                          code="bad_input", fix=_("Reload the page and try again."))

    def part_input(self, ctx: LabContext, part: str, body: dict[str, Any]) -> dict[str, Any]:
        """A student changes a part: starts a trial (`{"kind"}`), or labels the reading now,
        removes a point, clears or restores the points, changes k (`{"action", …}`). Logged;
        a LabkitError says what is wrong and changes nothing."""
        from labkit.errors import LabkitError
        from labkit.errors import lazy_gettext as _

        if part == "trials" and self.trials is not None:
            started = self.trials.start(body.get("kind"), ctx.log.clock())
            if started["closed"] is not None:
                ctx.log.record("model", "trial", started["closed"])
            ctx.log.record("input", "trial_start", {"kind": started["started"]})
            state = self.part_state("trials")
            ctx.bus.publish("lab.trials", state)
            return state
        knn = self.neighbours.get(body.get("name") or next(iter(self.neighbours), ""))
        if part != "neighbours" or knn is None:
            raise LabkitError(_("This lab has no %(part)s part.", part=str(part)[:20]),
                              code="bad_input", fix=_("Reload the page and try again."))
        action = body.get("action")
        entry: dict[str, Any] = {"action": action}
        if action == "add":
            entry["point"] = [round(v, 3) for v in knn.add(body.get("label"))]
            entry["label"] = body.get("label")
        elif action == "remove":
            knn.remove(body.get("index"))
        elif action == "k":
            entry["k"] = knn.set_k(body.get("k"))
        elif action == "clear":
            knn.clear()
        elif action == "restore":
            knn.restore()
        else:
            raise LabkitError(_("Unknown change: %(action)s.", action=str(action)[:20]),
                              code="bad_input", fix=_("Use the buttons on the lab page."))
        entry.update(k=knn.k, points=len(knn.points))
        ctx.log.record("input", knn.name, entry)
        state = knn.state()
        self._live_sent[knn.name] = state["live"]
        ctx.bus.publish("lab.neighbours", state)
        return state

    def keepsakes(self) -> list[tuple[str, bytes, str]]:
        """Files the run keeps in the portfolio when it ends: each neighbours part's points
        (the class's own data) as CSV."""
        return [(f"{name}.csv", knn.points_csv().encode("utf-8"), ".csv")
                for name, knn in getattr(self, "neighbours", {}).items()]

    def teardown(self, ctx: LabContext) -> None:
        camera = getattr(ctx.runtime, "camera", None)
        mine = getattr(self, "_filter", None)
        if camera is not None and mine is not None and getattr(camera, "filter", None) is mine:
            camera.filter = None   # the next lab sees the picture as it is
        for device, _attr, _read, _last in getattr(self, "outputs", ()):
            try:
                device.off()
            except Exception:
                log.debug("could not switch %r off", device)
        for det in getattr(self, "built", ()):
            try:
                det.close()
            except Exception:
                log.exception("closing detector %s failed", det.name)
        self.built = []
        meter = getattr(self, "_meter", None)
        if meter is not None and not meter.closed:
            meter.close()
        self._meter = None

    def on_event(self, ctx: LabContext, event: Any) -> None:
        if event.topic == PART_TOPIC and isinstance(event.data, dict):
            # a demo's press on a part: {part: trials, kind: other}, {part: neighbours, …}
            body = {k: v for k, v in event.data.items() if k != "part"}
            self.part_input(ctx, str(event.data.get("part")), body)
        for name, decl in self.spec.events().items():
            if event.topic != decl["topic"]:
                continue
            data = event.data if isinstance(event.data, dict) else {"value": event.data}
            where = decl.get("where") or {}
            if all(data.get(k) == v for k, v in where.items()) and ctx.hears(event.topic, data):
                ctx.log.record("input", name, data)
                last = getattr(self, "last_events", {}).get(name)
                if last is not None:
                    last.update(data)


def _check_method(fn: CheckFn, name: str) -> Callable[[Any, EventLog], CheckResult]:
    def run(self: Any, log: EventLog) -> CheckResult:
        result = fn(log)
        return result if isinstance(result, CheckResult) else CheckResult.boolean(bool(result))
    run.__name__ = name
    return run


def make_project(spec: LabSpec) -> type[LabProject]:
    """A Project subclass for `spec` (its checks as @check methods, hardware from uses)."""
    attrs: dict[str, Any] = {
        "id": spec.id, "band": spec.band, "hardware": spec.hardware, "spec": spec,
        "title": text(spec.data.get("title"), "en"),
        "listens": tuple(sorted({e["topic"] for e in spec.events().values()}
                                | ({PART_TOPIC} if {"trials", "neighbours"}
                                   & set(spec.part_names()) else set()))),
        "__module__": __name__,
    }
    for check_id, (fn, description) in spec.checks.items():
        method = f"check__{check_id}"
        attrs[method] = check(check_id, description=description)(_check_method(fn, method))
    name = "".join(part.title() for part in spec.id.split("_")) + "Lab"
    return type(name, (LabProject,), attrs)
