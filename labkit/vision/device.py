"""The gpiozero-device plumbing every vision task shares (DESIGN § 5).

A detector is a pinless gpiozero `InternalDevice`, so what gpiozero's docs teach just works:

    faces = FaceDetector(Camera())
    LED(17).source = faces.present.values      # or simply: LED(17).source = faces
    faces.when_activated = buzzer.beep
    rgb.source = scaled(faces.count, 0, 1)

Why a thread per detector: with a camera attached, the detector runs its model once per *new*
camera frame on its own thread and keeps the latest result; every consumer (`value`, the
sub-signals, the web page, a lab check) reads that one shared result, so ten readers cost one
model run. A slow model simply skips frames (the camera hands out only its newest frame).
Without a camera, call `detect(frame)` yourself (tests, saved photos, a benchmark).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, is_dataclass
from typing import Any, Callable, Generic, TypeVar

from labkit.drivers.signals import Signal, ValueDevice, ensure_pin_factory
from labkit.exitstop import stop_at_exit
from labkit.vision.frames import Prepared, prepare

log = logging.getLogger(__name__)

R = TypeVar("R")


def default_store() -> Any:
    """The kit's model store (the data dir's models), for detectors built without one."""
    from labkit.models import ModelStore

    return ModelStore()


#: XNNPACK threads per vision model. One, as mediapipe's own Linux default (the Pi included):
#: these models take 1–25 ms, and a second thread's hand-offs cost more than it saves once the
#: cores are shared (bench/vision.py measured BlazeFace 1.9× and selfie segmentation 1.5×
#: slower on two threads than on one); each detector follows the camera on its own thread, so
#: several detectors still use several cores.
MODEL_THREADS = 1


def load_model(store: Any, name: str) -> Any:
    """A vision model from the store, on MODEL_THREADS threads."""
    return store.load(name, threads=MODEL_THREADS)


def to_jsonable(value: Any) -> Any:
    """Dataclass results → plain JSON-able dicts/lists/floats (for the page and lab logs)."""
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    if hasattr(value, "tolist"):
        return to_jsonable(value.tolist())
    return value


class VisionDetector(ValueDevice, Generic[R]):
    """Base class: subclasses implement `_detect(prepared) -> result` and `summary(result)`.

    `summary` returns (count, label, score) for the generic sub-signals. `value` is 1.0 while
    something is detected (`count > 0`) unless a subclass says otherwise.

    camera      a `Camera` (anything with `wait_for_frame()`/`read()` returning a Frame), or
                None to drive the detector with `detect(frame)` yourself
    every       run the model on every n-th new frame only (frame skipping)
    max_fps     cap on model runs per second from the camera thread (None: as fast as frames)
    bus, topic  publish each result's JSON to an EventBus (the web page's SSE stream)
    start       follow the camera at once (False: call start() later)
    """

    topic = "vision"

    def __init__(self, camera: Any = None, *, every: int = 1, max_fps: float | None = None,
                 bus: Any = None, pin_factory: Any = None, start: bool = True) -> None:
        ensure_pin_factory()
        self._result: R | None = None
        self._value = 0.0
        self._children: list[Signal] = []
        self._signals: dict[str, Signal] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.camera = camera
        self.every = max(1, int(every))
        self.max_fps = max_fps
        self.bus = bus
        self.frames_seen = 0
        self.runs = 0
        self.last_seq: int | None = None
        self.last_latency = 0.0
        self.last_error: str | None = None
        #: callables whose dicts are merged into each published result (e.g. a rep count)
        self.json_extras: list[Callable[[], dict[str, Any]]] = []
        #: helpers attached to this detector by whoever runs it (gpiozero devices refuse new
        #: attributes after construction, so they live here)
        self.attached: dict[str, Any] = {}
        super().__init__(pin_factory=pin_factory)
        self._fire_events(self.pin_factory.ticks(), False)
        if camera is not None and start:
            self.start()

    # -- gpiozero device surface (value / is_active come from ValueDevice) ---------------------
    def _value_of(self, result: R) -> float:
        return 1.0 if self.summary(result)[0] > 0 else 0.0

    # -- results -------------------------------------------------------------------------
    @property
    def result(self) -> R | None:
        """The latest result (None before the first frame)."""
        return self._result

    def summary(self, result: R) -> tuple[int, str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _detect(self, frame: Prepared) -> R:  # pragma: no cover - abstract
        raise NotImplementedError

    def detect(self, frame: Any) -> R:
        """Run the task on one frame (a camera Frame or an image array) and make the result
        the device's latest. Bad frames raise `FrameError` (a ValueError) with a fix."""
        prepared = prepare(frame)
        with self._lock:
            t0 = time.perf_counter()
            result = self._detect(prepared)
            self.last_latency = time.perf_counter() - t0
            self.runs += 1
            self._publish(result, prepared.seq)
        return result

    def _publish(self, result: R, seq: int | None) -> None:
        self._result = result
        self.last_seq = seq
        if self._closed:
            return
        self._value = float(self._value_of(result))
        self._fire_events(self.pin_factory.ticks(), bool(self._value))
        for child in list(self._children):
            child._refresh()
        if self.bus is not None:
            self.bus.publish(self.topic, self.to_json(result))

    def to_json(self, result: R) -> dict[str, Any]:
        """The result as the web page receives it over SSE."""
        data = to_jsonable(result)
        if not isinstance(data, dict):
            data = {"result": data}
        data["seq"] = self.last_seq
        data["ms"] = round(self.last_latency * 1000, 2)
        for extra in self.json_extras:
            data.update(extra())
        return data

    # -- the camera thread -----------------------------------------------------------------
    def start(self) -> "VisionDetector[R]":
        """Follow the camera on a thread of its own (done by the constructor if given one)."""
        if self.camera is None:
            raise ValueError("this detector has no camera; call detect(frame) instead")
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._follow, daemon=True,
                                            name=f"labkit-{type(self).__name__}")
            self._thread.start()
            stop_at_exit(self.stop)
        return self

    def stop(self) -> None:
        """Stop following the camera (the device stays usable with detect())."""
        if "_stop" not in self.__dict__:   # __init__ failed early; gpiozero still closes
            return
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=3)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _next_frame(self, after: int) -> Any:
        cam = self.camera
        if hasattr(cam, "wait_for_frame"):
            return cam.wait_for_frame(after, timeout=0.5)
        frame = cam.read()
        if frame is None or getattr(frame, "seq", after + 1) <= after:
            self._stop.wait(0.01)
            return None
        return frame

    def _follow(self) -> None:
        last, n = 0, 0
        next_due = 0.0
        while not self._stop.is_set():
            try:
                frame = self._next_frame(last)
            except Exception as exc:  # a camera that raises must not kill the thread
                self.last_error = str(exc)
                self._stop.wait(0.2)
                continue
            if frame is None:
                continue
            last = getattr(frame, "seq", last + 1)
            self.frames_seen += 1
            n += 1
            if n % self.every:
                continue
            if self.max_fps:
                now = time.monotonic()
                if now < next_due:
                    continue
                next_due = max(next_due + 1.0 / self.max_fps, now)
            try:
                self.detect(frame)
                self.last_error = None
            except Exception as exc:  # one bad frame must not stop the detector
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s failed on a frame: %s", type(self).__name__, self.last_error)
                self._stop.wait(0.1)

    def close(self) -> None:
        self.stop()
        for child in list(self.__dict__.get("_children", ())):
            child.close()
        super().close()

    # -- sub-signals ----------------------------------------------------------------------
    def signal(self, name: str, getter: Callable[[R | None], Any]) -> "Signal":
        """A named sub-device computed from the latest result (cached per name)."""
        with self._lock:
            sig = self._signals.get(name)
            if sig is None or sig.closed:
                sig = Signal(self, lambda: getter(self._result), name)
                self._signals[name] = sig
                self._children.append(sig)
            return sig

    @property
    def present(self) -> "Signal":
        """1 while something is detected, else 0."""
        return self.signal("present", lambda r: 1 if r is not None and self.summary(r)[0] else 0)

    @property
    def count(self) -> "Signal":
        """How many things are detected."""
        return self.signal("count", lambda r: self.summary(r)[0] if r is not None else 0)

    @property
    def label(self) -> "Signal":
        """The label of the best detection ('' when none)."""
        return self.signal("label", lambda r: self.summary(r)[1] if r is not None else "")

    @property
    def score(self) -> "Signal":
        """The confidence of the best detection, 0–1."""
        return self.signal("score", lambda r: self.summary(r)[2] if r is not None else 0.0)

    def label_is(self, label: str) -> "Signal":
        """1 while the best detection's label is `label` (e.g. gestures.label_is('fist'))."""
        return self.signal(f"label_is({label})",
                           lambda r: 1 if r is not None and self.summary(r)[1] == label else 0)
