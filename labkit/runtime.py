"""The kit's single runtime: one owner for the camera, the microphone and the pins.

`KitRuntime` is built once per process (by `labkit serve`, `labkit run`, or a test) from the
Settings. Everything above it — detectors, labs, the web app — gets hardware from here, so two
parts of the kit never fight over the camera.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from labkit.config import Settings
from labkit.datadir import tidy_data_dir
from labkit.drivers.audio import Microphone, Speaker
from labkit.drivers.bench import VirtualBench
from labkit.drivers.camera import Camera
from labkit.drivers.gpio import install_pin_factory, make_pin_factory
from labkit.drivers.hardware import resolve_hardware
from labkit.drivers.kit import Kit
from labkit.drivers.outputlock import OutputLock
from labkit.drivers.pins import Holder, Lease, Pins
from labkit.drivers.wiring import load_wiring
from labkit.errors import LabkitError
from labkit.events import EventBus

log = logging.getLogger(__name__)


def _seal_clear_learn_files(data_dir: Any) -> int:
    """Seal /learn samples, features and models an older kit wrote in clear (labkit.atrest)."""
    from labkit.learn.dataset import ProjectStore, seal_clear_files

    try:
        done = seal_clear_files(ProjectStore(data_dir))
    except OSError as exc:   # a full or read-only card: files stay readable, sealed next start
        log.warning("clear /learn files not sealed: %s", exc)
        return 0
    if done:
        log.info("sealed %d /learn files written in clear by an older kit", done)
    return done


def _seal_clear_programs(data_dir: Any) -> int:
    """Seal the code lab's saved programs an older kit wrote in clear (labkit.atrest)."""
    from labkit.sandbox.programs import ProgramBook

    try:
        done = ProgramBook(data_dir / "portfolio").seal_clear_files()
    except OSError as exc:   # as above: readable in clear until the next start
        log.warning("clear saved programs not sealed: %s", exc)
        return 0
    if done:
        log.info("sealed %d saved programs written in clear by an older kit", done)
    return done


PROGRAM_TASKS = ("face", "hands", "pose", "emotion", "colour", "shapes", "text")


class KitRuntime:
    """Hardware and shared services for one kit process."""

    def __init__(self, settings: Settings, *, start_camera: bool = True) -> None:
        self.settings = settings
        self.hardware = resolve_hardware(settings.hardware)
        settings.ensure_data_dir()
        self.tidy = tidy_data_dir(settings.data_dir)
        self.sealed_on_start = _seal_clear_learn_files(settings.data_dir)
        self.sealed_programs_on_start = _seal_clear_programs(Path(settings.data_dir))
        self.bus = EventBus()
        self.wiring = load_wiring(settings.wiring_file)
        self.factory = install_pin_factory(make_pin_factory(self.hardware, settings.data_dir))
        self.kit = Kit(self.wiring, self.factory, self.hardware)
        # who may drive the outputs now (drivers/pins.py), in this process and across them
        self.pins = Pins(self.bus, guard=OutputLock(settings.data_dir))
        self.bench = VirtualBench(self.kit, self.bus).start()
        self.camera = Camera(settings.camera, hardware=self.hardware, start=start_camera,
                             missing_ok=True)
        self.speaker = Speaker(hardware=self.hardware, bus=self.bus)
        self._mic: Microphone | None = None
        self._mic_error: str | None = None
        # re-entrant: a service's factory may itself ask for the microphone or another service
        self._lock = threading.RLock()
        self.services: dict[str, Any] = {}
        self._idle_demo = False
        self._idle_lease: Lease | None = None
        self.model_store_error: str | None = None
        self.start_idle_demo()
        log.info("kit runtime up: hardware=%s camera=%s", self.hardware, self.camera.name)

    def start_idle_demo(self) -> None:
        """While no lab runs, the kit's button lights its LED — the gpiozero hello-world,
        so a teacher unpacking a kit sees at once that pins and page are alive."""
        if self._idle_demo or "led" not in self.wiring or "button" not in self.wiring:
            return
        if self.pins.holder is not None:
            return   # someone drives the outputs; the demo waits for the next hand-back
        if self.pins.held_elsewhere() is not None:
            return   # another process (a pipeline started at boot) drives them
        # a soft holder: whoever asks for the pins next gets them, and the demo stops
        self._idle_lease = self.pins.acquire(Holder("idle", "idle", soft=True),
                                             on_preempt=self._idle_off)
        self.kit.led.source = self.kit.button
        self._idle_demo = True

    def _idle_off(self) -> None:
        if not self._idle_demo:
            return
        self.kit.led.source = None
        self.kit.led.off()
        self._idle_demo = False

    def stop_idle_demo(self) -> None:
        """Hand the pins back (a lab or a student program is about to use them)."""
        self._idle_off()
        lease, self._idle_lease = self._idle_lease, None
        if lease is not None:
            lease.release()

    @property
    def idle_demo_running(self) -> bool:
        return self._idle_demo

    @property
    def microphone(self) -> Microphone | None:
        """The shared microphone, opened on first use; None (with a reason) if there is none."""
        with self._lock:
            if self._mic is None and self._mic_error is None:
                try:
                    # a configured microphone that is not plugged in yet is waited for (the
                    # capture thread picks it up), like a camera missing at start
                    self._mic = Microphone(self.settings.microphone, hardware=self.hardware,
                                           bus=self.bus, missing_ok=True)
                except LabkitError as exc:
                    self._mic_error = exc.one_line()
                    log.warning("no microphone: %s", self._mic_error)
            return self._mic

    @property
    def microphone_error(self) -> str | None:
        return self._mic_error

    @property
    def model_store(self) -> Any:
        """The kit's model store, shared by every page and lab (opened on first use).

        None if it cannot be opened (no models fetched yet): callers fall back or tell the
        user to run `labkit models fetch`; the reason is in `model_store_error`."""
        def make() -> Any:
            from labkit.models import ModelStore

            try:
                return ModelStore(self.settings)
            except LabkitError as exc:
                self.model_store_error = exc.one_line()
                log.warning("model store unavailable: %s", self.model_store_error)
                return None

        return self.service("model_store", make)

    @property
    def kit_link(self) -> Any:
        """The kit's side of student programs' hardware (labkit/sandbox/link.py): pins under
        the lease, frames from this runtime's camera, speech from its speaker."""
        def make() -> Any:
            from labkit.i18n import translations
            from labkit.sandbox.link import KitLink

            gettext = translations(self.settings.lang).gettext
            return KitLink(self.factory, self.pins, camera=self.camera, speaker=self.speaker,
                           faces=self._faces_now, detect=self._detect_now,
                           sensors=self._sensor_now, predict=self._predict_now,
                           sound=self._sound_now, words=self._words_now,
                           inputs=self._input_pins(),
                           render=lambda message: message.render(gettext),
                           on_release=self.start_idle_demo)

        return self.service("kit_link", make)

    def _input_pins(self) -> dict[int, str]:
        """Pins wired to the kit's inputs (buttons, sensors): programs may not drive them."""
        out: dict[int, str] = {}
        for name in self.wiring.names("input"):
            for key, number in self.wiring[name].pins.items():
                if key != "trigger":          # an HC-SR04's trigger is the kit's output
                    out[int(number)] = name
        if self.wiring.names("analog"):
            out[9] = "MCP3008"                # SPI0 MISO: the ADC drives it
        return out

    def _faces_now(self) -> list[dict[str, Any]]:
        """Faces in the camera's newest frame, for a student program (`labkit.program`)."""
        from labkit.sandbox.link import Refusal
        from labkit.errors import lazy_gettext as _

        frame = self.camera.wait_for_frame(0, timeout=5.0)
        store = self.model_store
        if frame is None or store is None:
            raise Refusal("no_detector", _("The kit cannot look for faces: no camera picture "
                                           "or no face model (labkit models fetch)."))

        def make() -> Any:
            from labkit.vision import FaceDetector

            return FaceDetector(None, store=store)

        result = self.service("program_faces", make).detect(frame)
        return [{"box": [round(f.box.x), round(f.box.y), round(f.box.w), round(f.box.h)],
                 "score": round(float(f.score), 3)} for f in result.faces]

    def _detect_now(self, task: str, colour: str = "red") -> dict[str, Any]:
        """One vision task on the camera's newest frame, for a student program
        (`Camera("kit").detect(task)`): how many, the best one's label and score."""
        from labkit.errors import lazy_gettext as _
        from labkit.sandbox.link import Refusal

        if task not in PROGRAM_TASKS:
            raise Refusal("bad_value", _("The kit offers the vision tasks %(tasks)s.",
                                         tasks=", ".join(PROGRAM_TASKS)))
        frame = self.camera.wait_for_frame(0, timeout=5.0)
        if frame is None:
            raise Refusal("no_frame", _("The camera sent no picture."))
        from labkit.projects.detectors import DETECTORS

        kind = DETECTORS[task]
        store = self.model_store if kind.store else None
        if kind.store and store is None:
            raise Refusal("no_detector", _("The kit cannot run %(task)s: no model "
                                           "(labkit models fetch).", task=task))
        options: dict[str, Any] = {"store": store} if kind.store else {}
        if task == "colour":
            from labkit.vision.colour import COLOURS

            if colour not in COLOURS:
                raise Refusal("bad_value", _("The colours are %(colours)s.",
                                             colours=", ".join(COLOURS)))
            options["colour"] = colour
        key = f"program_{task}" + (f"_{colour}" if task == "colour" else "")
        detector = self.service(key, lambda: kind.load_class()(None, **options))
        count, label, score = detector.summary(detector.detect(frame))
        return {"count": int(count), "label": str(label), "score": round(float(score), 3)}

    def _sensor_now(self, name: str) -> Any:
        """A sensor's reading for a student program (`labkit.program.sensor(name)`), in the
        bench's units: light/soil 0–1, temperature °C, distance m, button/motion True/False.
        Analog sensors sit on the kit's SPI ADC, which a program cannot open itself."""
        from labkit.errors import lazy_gettext as _
        from labkit.sandbox.link import Refusal

        spec = self.wiring.devices.get(name)
        sensors = [n for n, s in self.wiring.devices.items() if s.role in ("input", "analog")]
        if spec is None or name not in sensors:
            raise Refusal("bad_value", _("The kit's sensors are %(names)s.",
                                         names=", ".join(sensors)))
        state = self.bench.device_state(spec)
        for key in ("celsius", "distance", "pressed", "active", "value"):
            if key in state:
                return state[key]
        return None

    def _sound_now(self) -> float:
        """How loud the kit's microphone hears it now (the last quarter second, in dB as the
        sound-level detector estimates it), for a student program (`sound_level()`)."""
        from labkit.audio_ai.level import DEFAULT_OFFSET_DB, dbfs
        from labkit.errors import lazy_gettext as _
        from labkit.sandbox.link import Refusal

        mic = self.microphone
        if mic is None:
            raise Refusal("no_microphone", _("The kit has no microphone."))
        return round(dbfs(mic.recent(0.25)) + DEFAULT_OFFSET_DB, 1)

    def _words_now(self) -> Any:
        """The command words the class taught on the sound page, listened for on the kit's
        microphone (labkit/audio_ai/heard.py), for a student program (`heard(word)`)."""
        from labkit.errors import lazy_gettext as _
        from labkit.sandbox.link import Refusal

        mic = self.microphone
        if mic is None:
            raise Refusal("no_microphone", _("The kit has no microphone."))
        store = self.model_store            # outside the factory: service() is not reentrant
        data_dir = Path(self.settings.data_dir)

        def make() -> Any:
            from labkit.atrest import sealer_for
            from labkit.audio_ai.heard import HeardWords

            return HeardWords(mic, data_dir / "audio" / "commands",
                              sealer=sealer_for(data_dir), store=store)

        try:
            return self.service("program_words", make)
        except LabkitError as exc:
            if exc.code == "not_found":
                raise Refusal("not_trained", _("The kit has not been taught any command words "
                                               "yet: teach and save them on the sound page "
                                               "first.")) from None
            raise Refusal(exc.code, exc.message_text) from None

    def _predict_now(self, name: str, owner: int | None) -> dict[str, Any]:
        """A teachable project's prediction on what the kit senses now, for a student program
        (`Camera("kit").predict(name)`). A program sees its own student's projects and the
        teacher's, never another student's; the newest trained one of that name answers."""
        from labkit.errors import lazy_gettext as _
        from labkit.learn.service import LearnService
        from labkit.sandbox.link import Refusal

        store = self.model_store            # outside the factory: service() is not reentrant
        learn = self.service("learn", lambda: LearnService(self, store=store))
        mine = [p for p in learn.projects.list()
                if "error" not in p and p.get("owner") in (owner, None)]
        named = [p for p in mine if p["name"] == name]
        if not named:
            raise Refusal("not_found", _("There is no teachable project called %(name)s. "
                                         "Yours: %(names)s.", name=name,
                                         names=", ".join(sorted({p["name"] for p in mine}))
                                         or "-"))
        trained = sorted((p for p in named if p["trained"]), key=lambda p: p["updated"])
        if not trained:
            raise Refusal("not_trained", _("The project %(name)s is not trained yet: train it "
                                           "on the teach page first.", name=name))
        project = learn.projects.get(trained[-1]["id"])
        result = learn.predictor(project).predict(learn.live_payload(project))
        return {"label": result.get("label") or "",
                "score": round(float(result.get("confidence") or 0.0), 3)}

    @property
    def sandbox(self) -> Any:
        """Starts student programs in a child process (one at a time on a kit); the data dir
        is out of their sight."""
        def make() -> Any:
            from labkit.sandbox.runner import Sandbox

            return Sandbox(self.kit_link, hide=[self.settings.data_dir])

        return self.service("sandbox", make)

    def service(self, name: str, factory: Any) -> Any:
        """A lazily created shared service (a detector, a model cache) kept for the process."""
        with self._lock:
            if name not in self.services:
                self.services[name] = factory()
            return self.services[name]

    def close(self) -> None:
        for svc in list(self.services.values()):
            close = getattr(svc, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    log.exception("closing a service failed")
        self.camera.close()
        if self._mic is not None:
            self._mic.close()
        self.bench.close()
        self.kit.close()
