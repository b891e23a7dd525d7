"""Run a checked pipeline on the kit: build its devices, then read → decide → act each tick.

The runner owns no hardware: it is given a kit runtime (`labkit.runtime.KitRuntime` or
anything with the same `camera`, `microphone`, `kit`, `pins`, `bench`, `speaker`, `wiring`,
`model_store` and `service`), so `labkit pipeline run` (a runtime of its own, headless) and the
page (the serving process's runtime, whose camera is already open) run the same code.

Vision and sound tasks are the kit's gpiozero-style detectors following the shared camera or
microphone on their own threads; every tick (10 per second) the runner reads their latest
results, evaluates the rules and drives the outputs — only while it holds the pin lease
(labkit/drivers/pins.py). Outputs follow their rule (on while yes); the buzzer and speech act
once each time a rule turns yes.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from labkit import steady
from labkit.drivers.pins import Holder, Lease
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _
from labkit.pipeline.spec import TEST_FORM, Block, Pipeline
from labkit.projects.actions import Action, perform
from labkit.projects.bindings import COLOURS
from labkit.projects.vocabulary import condition

log = logging.getLogger(__name__)

TICK = 0.1
VISION_TASKS = {"faces": "face", "hands": "hands", "pose": "pose", "colour": "colour"}
NOTHING = {"count": 0, "present": False, "label": "", "score": 0.0}


def _detection(count: int, label: str, score: float) -> dict[str, Any]:
    return {"count": int(count), "present": count > 0, "label": str(label or ""),
            "score": round(float(score), 3)}


class _Node:
    """One running block: `read(inputs)` gives its value this tick."""

    def __init__(self, block: Block) -> None:
        self.block = block

    def read(self, value: Any) -> Any:  # pragma: no cover - every node overrides it
        raise NotImplementedError

    def close(self) -> None:
        """Stop threads and switch outputs off (called once, when the pipeline stops)."""


class _Const(_Node):
    def __init__(self, block: Block, thing: Any) -> None:
        super().__init__(block)
        self.thing = thing

    def read(self, value: Any) -> Any:
        return self.thing


class _Reader(_Node):
    def __init__(self, block: Block, get: Callable[[], Any]) -> None:
        super().__init__(block)
        self.get = get

    def read(self, value: Any) -> Any:
        return self.get()


class _Edge(_Node):
    """A button or motion sensor: yes while active, and for one tick after any activation
    between two ticks (a quick click is shorter than a tick)."""

    def __init__(self, block: Block, device: Any) -> None:
        super().__init__(block)
        self.device = device
        self.seen = False
        self._before = device.when_activated
        device.when_activated = self._activated

    def _activated(self) -> None:
        self.seen = True
        if callable(self._before):
            self._before()

    def read(self, value: Any) -> Any:
        seen, self.seen = self.seen, False
        return bool(self.device.is_active) or seen

    def close(self) -> None:
        if self.device.when_activated == self._activated:
            self.device.when_activated = self._before


class _Detector(_Node):
    """A kit detector following the camera/microphone on its own thread."""

    def __init__(self, block: Block, device: Any, summary: Callable[[Any], dict[str, Any]],
                 *also: Any) -> None:
        super().__init__(block)
        self.device = device
        self.summary = summary
        self.also = also                  # devices it wraps, closed after it

    def read(self, value: Any) -> Any:
        return self.summary(self.device)

    def close(self) -> None:
        self.device.close()
        for device in self.also:
            device.close()


class _Teachable(_Node):
    """A student's teachable project, asked about the camera's picture twice a second."""

    EVERY = 0.5

    def __init__(self, block: Block, learn: Any, project: Any) -> None:
        super().__init__(block)
        self.learn, self.project = learn, project
        self.value = dict(NOTHING)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="labkit-pipeline-teachable",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.EVERY):
            try:
                result = self.learn.predictor(self.project).predict(
                    self.learn.live_payload(self.project))
            except Exception as exc:  # no picture this moment: try again next time
                log.debug("teachable %s: %s", self.project.id, exc)
                continue
            label = result.get("label") or ""
            self.value = _detection(1 if label else 0, label, result.get("confidence") or 0.0)

    def read(self, value: Any) -> Any:
        return self.value

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


class _Compare(_Node):
    def __init__(self, block: Block) -> None:
        super().__init__(block)
        match = TEST_FORM.match(block.params["test"])
        assert match is not None     # the spec checked it
        self.name = match.group(1)
        test = condition(match.group(2))
        assert test is not None
        self.test = test

    def read(self, value: Any) -> Any:
        got = value.get(self.name) if isinstance(value, dict) else value
        return self.test(got)


class _Label(_Node):
    def read(self, value: Any) -> Any:
        return isinstance(value, dict) and value.get("label") == self.block.params["is"]


class _Held(_Node):
    def __init__(self, block: Block) -> None:
        super().__init__(block)
        self.since: float | None = None

    def read(self, value: Any) -> Any:
        if not value:
            self.since = None
            return False
        now = steady.now()
        if self.since is None:
            self.since = now
        return now - self.since >= self.block.params["seconds"]


class _Toggle(_Node):
    def __init__(self, block: Block) -> None:
        super().__init__(block)
        self.was, self.on = False, False

    def read(self, value: Any) -> Any:
        now = bool(value)
        if now and not self.was:
            self.on = not self.on
        self.was = now
        return self.on


class _Output(_Node):
    """An action: drives its output when its input changes (and once at the start)."""

    def __init__(self, block: Block, apply: Callable[[bool], None],
                 off: Callable[[], None] | None = None) -> None:
        super().__init__(block)
        self.apply = apply
        self.off = off
        self.last: bool | None = None

    def read(self, value: Any) -> Any:
        now = bool(value)
        if now != self.last:
            self.last = now
            self.apply(now)
        return now

    def close(self) -> None:
        if self.off is not None:
            try:
                self.off()
            except Exception:  # a closed device at shutdown is already off
                log.debug("pipeline: output %s off failed", self.block.id, exc_info=True)


class PipelineRunner:
    """One pipeline running against one kit runtime, on a thread, until `stop()`."""

    def __init__(self, runtime: Any, pipeline: Pipeline, *, owner: str = "",
                 holder_id: str | None = None, lang: str | None = None,
                 student_id: int | None = None, any_project: bool = True) -> None:
        """`owner`: who started it (shown to whoever the kit refuses). A student's pipeline
        (`any_project=False`) may use only that student's and the teacher's teachable
        projects, as a student program may (labkit/runtime.py, `_predict_now`)."""
        self.runtime = runtime
        self.pipeline = pipeline
        self.owner = owner
        self.student_id = student_id
        self.any_project = any_project
        self.holder = Holder(holder_id or f"pipeline:{pipeline.name}", "pipeline",
                             owner or pipeline.name, progress=self._progress)
        self.lang = lang or getattr(runtime.settings, "lang", "zh_CN")
        self.nodes: list[_Node] = []
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.ticks = 0
        self.demo: Any = None
        self.demo_done = threading.Event()
        self.stopped = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lease: Lease | None = None
        self._played = 0.0
        self._demo_start = 0.0

    # -- building --------------------------------------------------------------------------
    def _store(self, block: Block) -> Any:
        store = self.runtime.model_store
        if store is None:
            raise LabkitError(_("%(block)s: the kit has no models yet", block=block.id),
                              code="no_models", fix=_("run: labkit models fetch"))
        return store

    def _camera(self, block: Block) -> Any:
        camera = getattr(self.runtime, "camera", None)
        if camera is None:
            raise LabkitError(_("%(block)s: the kit has no camera", block=block.id),
                              code="no_camera", fix=_("connect a camera"))
        return camera

    def _build(self, block: Block, inputs: dict[str, _Node]) -> _Node:
        name, p = block.type.name, block.params
        rt = self.runtime
        if name == "camera":
            return _Const(block, self._camera(block))
        if name == "microphone":
            mic = rt.microphone
            if mic is None:
                raise LabkitError(_("%(block)s: the kit has no microphone", block=block.id),
                                  code="no_microphone", fix=_("plug in a USB microphone"))
            return _Const(block, mic)
        if name in ("button", "motion"):
            return _Edge(block, rt.kit.device(p["device"]))
        if name == "sensor":
            spec = rt.wiring[p["device"]]

            def reading() -> Any:
                state = rt.bench.device_state(spec)
                for key in ("celsius", "distance", "value"):
                    if state.get(key) is not None:
                        return {"value": state[key]}
                return {"value": None}
            return _Reader(block, reading)
        if name in VISION_TASKS:
            return self._vision(block, inputs[block.input or ""])
        if name == "line_counter":
            return self._line_counter(block, inputs[block.input or ""])
        if name == "teachable":
            return self._teachable(block)
        if name == "command_words":
            return self._command_words(block, inputs[block.input or ""])
        if name == "compare":
            return _Compare(block)
        if name == "label":
            return _Label(block)
        if name == "held":
            return _Held(block)
        if name == "toggle":
            return _Toggle(block)
        return self._action(block)

    def _vision(self, block: Block, camera_node: _Node) -> _Node:
        from labkit.projects.detectors import DETECTORS

        kind = DETECTORS[VISION_TASKS[block.type.name]]
        options: dict[str, Any] = {"max_fps": 10.0}
        if kind.store:
            options["store"] = self._store(block)
        if block.type.name == "colour":
            options["colour"] = block.params["colour"]
        camera = camera_node.read(None)
        device = kind.load_class()(camera, **options)

        def summary(det: Any) -> dict[str, Any]:
            result = det.result
            return dict(NOTHING) if result is None else _detection(*det.summary(result))
        return _Detector(block, device, summary)

    def _line_counter(self, block: Block, camera_node: _Node) -> _Node:
        """People found in each frame, followed across frames and counted as they cross
        the line (labkit/vision/linecount.py): only their positions are used."""
        from labkit.vision.linecount import DoorCounter
        from labkit.vision.people import PeopleDetector

        people = PeopleDetector(camera_node.read(None), store=self._store(block), max_fps=10.0)
        door = DoorCounter(people, line=block.params["line"],
                           direction=block.params["direction"])

        def summary(det: Any) -> dict[str, Any]:
            c = det.counter
            result = det.tracker.result
            now = len(result.people) if result is not None else 0
            return {"count": now, "present": now > 0, "label": "", "score": 0.0,
                    "entered": c.entered, "left": c.left, "inside": c.inside}
        return _Detector(block, door, summary, people)

    def _teachable(self, block: Block) -> _Node:
        from labkit.learn.service import LearnService

        store = self.runtime.model_store
        learn = self.runtime.service("learn", lambda: LearnService(self.runtime, store=store))
        try:
            project = learn.projects.get(block.params["project"])
            if not self.any_project and project.owner not in (self.student_id, None):
                raise LabkitError("another student's project", code="not_found")
        except LabkitError:
            raise LabkitError(_("%(block)s: there is no teachable project %(project)s",
                                block=block.id, project=block.params["project"]),
                              code="not_found", fix=_("give the id of a trained project "
                                                      "from the teach page")) from None
        if not project.model:
            raise LabkitError(_("%(block)s: the project %(project)s is not trained yet",
                                block=block.id, project=block.params["project"]),
                              code="not_trained", fix=_("train it on the teach page first"))
        return _Teachable(block, learn, project)

    def _command_words(self, block: Block, mic_node: _Node) -> _Node:
        from pathlib import Path

        data_dir = Path(self.runtime.settings.data_dir)
        folder = data_dir / "audio" / "commands"
        if not (folder / "commands.json").is_file():     # before the heavy imports
            raise LabkitError(_("No saved command words were found."), code="not_found",
                              fix=_("Train and save them first."))
        from labkit.atrest import sealer_for
        from labkit.audio_ai.commands import CommandWords

        words = CommandWords(None, store=self.runtime.model_store)
        words.load(folder, sealer_for(data_dir))
        listener = _Listener(mic_node.read(None), words)

        def summary(det: Any) -> dict[str, Any]:
            heard = det.words.heard
            return _detection(1 if heard else 0, heard or "", 1.0 if heard else 0.0)
        return _Detector(block, listener, summary)

    def _action(self, block: Block) -> _Node:
        name, p = block.type.name, block.params
        if name == "say":
            action = Action(block.id, lambda: True, say=p["text"])
            lang = p["lang"]
            speaker = self.runtime.speaker

            def say(on: bool) -> None:
                if on:
                    said = perform(action, speaker=speaker, buzzer=None, lang=lang)
                    self._announce(block, said=said)
            return _Output(block, say)
        device = self.runtime.kit.device(p["device"])
        if name == "rgb":
            colour, otherwise = COLOURS[p["colour"]], COLOURS[p["otherwise"]]

            def rgb(on: bool) -> None:
                self._drive(lambda: setattr(device, "color", colour if on else otherwise))
            return _Output(block, rgb, lambda: self._drive(device.off))
        if name == "servo":
            def servo(on: bool) -> None:
                self._drive(lambda: setattr(device, "angle", p["angle"] if on else p["rest"]))
            return _Output(block, servo, lambda: self._drive(device.detach))
        if name == "buzzer":
            beep = Action(block.id, lambda: True, beep=p["seconds"])

            def buzz(on: bool) -> None:
                if on:
                    self._drive(lambda: perform(beep, speaker=None, buzzer=device,
                                                lang=self.lang))
                    self._announce(block, beep=p["seconds"])
            return _Output(block, buzz, lambda: self._drive(device.off))

        def switch(on: bool) -> None:      # led, fan, pump
            self._drive(device.on if on else device.off)
        return _Output(block, switch, lambda: self._drive(device.off))

    def _announce(self, block: Block, **what: Any) -> None:
        """Tell the bus a one-off action happened (`pipeline.action`: the log, the page)."""
        bus = getattr(self.runtime, "bus", None)
        if bus is not None:
            bus.publish("pipeline.action", {"pipeline": self.pipeline.name, "block": block.id,
                                            **what})

    def _drive(self, change: Callable[[], Any]) -> None:
        lease = self._lease
        if lease is not None:
            lease.drive(change)

    # -- running ---------------------------------------------------------------------------
    def start(self, *, takeover: bool = False, demo: bool = False) -> "PipelineRunner":
        """Take the kit's outputs, build every block and start ticking. A block that cannot
        be built (no models, no microphone) raises LabkitError and nothing keeps running."""
        self._lease = self.runtime.pins.acquire(self.holder, takeover=takeover,
                                                on_preempt=self._preempted)
        try:
            nodes: dict[str, _Node] = {}
            for block in self.pipeline.blocks:
                nodes[block.id] = self._build(block, nodes)
                self.nodes.append(nodes[block.id])
            if demo and self.pipeline.demo:
                self._start_demo()
        except BaseException:
            self._close_nodes()
            self._release()
            raise
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"labkit-pipeline-{self.pipeline.name}")
        self._thread.start()
        log.info("pipeline %s started (%d blocks)", self.pipeline.name, len(self.nodes))
        return self

    def _start_demo(self) -> None:
        from labkit.projects.demo import Scenario

        if getattr(self.runtime, "hardware", "sim") != "sim":
            raise LabkitError(_("a demo plays simulated inputs, so it runs only in simulation"),
                              code="real_hardware", fix=_("run it with LABKIT_HARDWARE=sim"))
        self.demo = Scenario(self.pipeline.demo or []).prepare()
        self._demo_start = steady.now()
        if self.pipeline.uses_camera:
            scenario = self.demo
            self.runtime.camera.play(lambda t: scenario.frame_at(t))

    def _play_demo(self) -> None:
        t = steady.now() - self._demo_start
        for kind, data in self.demo.actions(self._played, t):
            if kind == "bench":
                try:
                    self.runtime.bench.apply(data)
                except LabkitError as exc:
                    log.warning("pipeline demo: %s", exc.one_line())
        self._played = t
        if t >= self.demo.duration and not self.demo_done.is_set():
            self.demo_done.set()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                lease = self._lease
                if lease is None or not lease.active:
                    break
                if self.demo is not None:
                    self._play_demo()
                self.tick()
                self._stop.wait(TICK)
        finally:
            self._close_nodes()
            self._release()
            self.stopped.set()

    def tick(self) -> None:
        """Read every block once, in order (each block after its input)."""
        for node in self.nodes:
            block = node.block
            try:
                value = node.read(self.values.get(block.input) if block.input else None)
            except Exception as exc:  # one failing block must not stop the device
                message = f"{type(exc).__name__}: {exc}"
                if self.errors.get(block.id) != message:
                    log.warning("pipeline %s, block %s: %s", self.pipeline.name, block.id,
                                message)
                self.errors[block.id] = message
                value = None
            self.values[block.id] = value
        self.ticks += 1

    def _progress(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline.name}

    def _preempted(self) -> None:
        log.info("pipeline %s: another holder took the kit's outputs", self.pipeline.name)
        self._stop.set()

    def _close_nodes(self) -> None:
        for node in reversed(self.nodes):
            try:
                node.close()
            except Exception:
                log.exception("pipeline %s: closing %s failed", self.pipeline.name,
                              node.block.id)
        self.nodes = []
        if self.demo is not None and hasattr(self.runtime.camera, "play"):
            self.runtime.camera.play(None)

    def _release(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.release()
            restart = getattr(self.runtime, "start_idle_demo", None)
            if callable(restart):
                restart()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop ticking, switch the outputs off and hand the pins back."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout)
        elif self._thread is None:
            self._close_nodes()
            self._release()

    def state(self) -> dict[str, Any]:
        """What the page shows: each block's value now, and any block's last error."""
        def plain(v: Any) -> Any:
            if isinstance(v, (bool, int, float, str, dict)) or v is None:
                return v
            return type(v).__name__
        return {"name": self.pipeline.name, "running": self.running, "ticks": self.ticks,
                "owner": self.owner,
                "values": {k: plain(v) for k, v in self.values.items()},
                "errors": dict(self.errors)}


class _Listener:
    """Feeds one microphone's blocks to the command words on a thread of its own."""

    def __init__(self, mic: Any, words: Any) -> None:
        self.mic, self.words = mic, words
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="labkit-pipeline-words",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self.mic.listen() as blocks:
            while not self._stop.is_set():
                block = blocks.get(timeout=0.2)
                if block is not None:
                    self.words.feed(block)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.words.close()


def wait_until(stop: threading.Event, *events: threading.Event, seconds: float = 0.0) -> None:
    """Block until `stop` or any of `events` is set, or `seconds` passed (0: no limit)."""
    deadline = time.monotonic() + seconds if seconds > 0 else None
    while not stop.is_set() and not any(e.is_set() for e in events):
        if deadline is not None and time.monotonic() >= deadline:
            return
        stop.wait(0.1)
