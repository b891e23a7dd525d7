"""The kit's side of a student program's hardware: pins, camera frames and speech, on request.

A student program (in the sandbox or started from a terminal) talks to the kit over a local
Unix socket, one JSON line per request (the format is in `labkit.sandbox.kitpins`). Each
connection is a `LinkSession`: it takes the kit's pin lease (`drivers/pins.py`) as a
"program" holder when the program opens its first pin and keeps it until the program ends,
so a running lab is never disturbed and the bench shows exactly what the program does. Pins
are the kit's own pin objects (`factory.pin(n)`), so the virtual bench, which reads pins,
sees every change. Frames come from the kit's one camera: it is never opened twice.

When a session ends, every pin it touched is put back as it found it (function, state,
frequency, edge callback), and the lease is released.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

from labkit.drivers.pins import Holder, Lease, PinsBusy
from labkit.errors import Message, lazy_gettext as _

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024
FUNCTIONS = ("input", "output")
PULLS = ("up", "down", "floating")
EDGES = ("both", "rising", "falling")
ATTRS = ("function", "state", "pull", "frequency", "bounce", "edges")


class Refusal(Exception):
    """A request the kit will not carry out: `code` for the program, `message` for people."""

    def __init__(self, code: str, message: Message | str) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message


def _number(value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Refusal("bad_value", _("A pin value must be a number."))
    if not lo <= value <= hi:
        raise Refusal("bad_value", _("A pin value must be between %(lo)s and %(hi)s.",
                                     lo=lo, hi=hi))
    return float(value)


class KitLink:
    """Serves student programs: one `LinkSession` per connected program.

    factory   the kit's pin factory (the pins the bench reads)
    pins      the kit's lease book
    camera    the kit's Camera (or None)
    speaker   something with `say(text, lang)` (or None)
    faces     a callable: the faces in the camera's newest frame, as dicts (or None)
    detect    a callable: task name → {count, label, score} of one vision task on the camera's
              newest frame (or None); it refuses tasks it does not offer
    sensors   a callable: device name → the sensor's reading (the bench's units), or None
    sound     a callable: the loudness the kit's microphone hears now, in dB (or None)
    words     a callable: the kit's taught command words listening on its microphone, a
              `labkit.audio_ai.heard.HeardWords` (or None); it may raise Refusal
    predict   a callable: (teachable project name, the program's student id or None) → the
              project's prediction on what the kit senses now; it sees only that student's
              projects and the teacher's (or None)
    inputs    pin number → device name for pins wired to the kit's sensors and buttons: a
              program may read them but never make them outputs (on a real kit, driving a
              button's pin high while it is pressed shorts the pin to ground)
    render    turns a Message into text in the kit's language
    on_lease  called when a program has taken the pins
    on_release called when a program has handed them back (the runtime's idle demo resumes)
    """

    def __init__(self, factory: Any, pins: Any, *, camera: Any = None, speaker: Any = None,
                 faces: Callable[[], list[dict[str, Any]]] | None = None,
                 detect: Callable[..., dict[str, Any]] | None = None,
                 sensors: Callable[[str], Any] | None = None,
                 predict: Callable[[str, int | None], dict[str, Any]] | None = None,
                 sound: Callable[[], float] | None = None,
                 words: Callable[[], Any] | None = None,
                 inputs: dict[int, str] | None = None,
                 render: Callable[[Message], str] = str, revision: str | None = None,
                 on_lease: Callable[[], Any] | None = None,
                 on_release: Callable[[], Any] | None = None) -> None:
        self.factory = factory
        self.pins = pins
        self.camera = camera
        self.speaker = speaker
        self.faces = faces
        self.detect = detect
        self.sensors = sensors
        self.predict = predict
        self.sound = sound
        self.words = words
        self.inputs = dict(inputs or {})
        self.render = render
        self.on_lease = on_lease
        self.on_release = on_release
        self.revision = revision or _revision_of(factory)
        self._listener: socket.socket | None = None
        self._sessions: set[LinkSession] = set()
        self._lock = threading.Lock()
        self._count = 0

    # ---- connections ----------------------------------------------------------------------
    def serve(self, sock: socket.socket, holder: Holder, *,
              on_preempt: Callable[[], Any] | None = None,
              on_hello: Callable[[dict[str, Any]], Any] | None = None,
              owner: int | None = None) -> "LinkSession":
        """Answer one program on `sock` (in a thread of its own) as `holder`; `owner` is the
        student whose program it is (None: a terminal program, the teacher's)."""
        session = LinkSession(self, sock, holder, on_preempt=on_preempt, on_hello=on_hello)
        session.owner = owner
        with self._lock:
            self._sessions.add(session)
        session.start()
        return session

    def listen(self, path: os.PathLike[str] | str) -> Path:
        """Accept programs started from a terminal on the kit (`python my_program.py`)."""
        target = Path(path)
        target.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o117)       # the socket: owner and group (the kit's users) only
        try:
            sock.bind(str(target))
        finally:
            os.umask(old)
        sock.listen(4)
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), name="labkit-kit-socket",
                         daemon=True).start()
        log.info("student programs may connect at %s", target)
        return target

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _addr = listener.accept()
            except OSError:
                return
            with self._lock:
                self._count += 1
                n = self._count
            self.serve(conn, Holder(f"program:terminal-{n}", "program", ""))

    def _done(self, session: "LinkSession") -> None:
        with self._lock:
            self._sessions.discard(session)

    def close(self) -> None:
        if self._listener is not None:
            try:
                path = self._listener.getsockname()
                self._listener.close()
                if path:
                    Path(path).unlink(missing_ok=True)
            except OSError:
                pass
            self._listener = None
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.close()


def _revision_of(factory: Any) -> str:
    try:
        return f"{int(factory.board_info.revision, 16):x}" if isinstance(
            factory.board_info.revision, str) else f"{int(factory.board_info.revision):x}"
    except Exception:
        return "c03112"


class LinkSession:
    """One connected program: its requests, its lease, the pins it touched."""

    def __init__(self, link: KitLink, sock: socket.socket, holder: Holder, *,
                 on_preempt: Callable[[], Any] | None,
                 on_hello: Callable[[dict[str, Any]], Any] | None) -> None:
        self.link = link
        self.sock = sock
        self.holder = holder
        self.on_preempt = on_preempt
        self.on_hello = on_hello
        self.lease: Lease | None = None
        self.owner: int | None = None
        self.report: dict[str, Any] = {}
        self._send_lock = threading.Lock()
        self._saved: dict[int, dict[str, Any]] = {}
        self._watch: dict[int, tuple[Any, Callable[..., None]]] = {}
        self._closed = threading.Event()
        # the session's reader and the program's watcher both close it when the program ends:
        # the second waits for the first, so "the program has ended" always means "the pins
        # are back and whoever resumes after it has resumed"
        self._close_lock = threading.RLock()
        self._closing = False
        self.started = time.monotonic()
        self._heard: dict[str, int] = {}     # command word → the hearing it was last asked at
        self._thread = threading.Thread(target=self._run, name=f"labkit-{holder.id}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # ---- the conversation -----------------------------------------------------------------
    def _send(self, msg: dict[str, Any]) -> None:
        data = (json.dumps(msg, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._send_lock:
            try:
                self.sock.sendall(data)
            except OSError:
                self._closed.set()

    def _run(self) -> None:
        try:
            reader = self.sock.makefile("rb")
            while not self._closed.is_set():
                raw = reader.readline(MAX_LINE + 1)
                if not raw:
                    break
                if len(raw) > MAX_LINE:
                    break        # a program that floods the socket is cut off
                self._answer(raw)
        except OSError:
            pass
        finally:
            self.close()

    def _answer(self, raw: bytes) -> None:
        try:
            msg = json.loads(raw)
            if not isinstance(msg, dict):
                raise ValueError
        except ValueError:
            self._send({"id": 0, "error": {"code": "bad_request", "message": "not JSON"}})
            return
        rid = msg.get("id", 0)
        handler = getattr(self, "op_" + str(msg.get("op", "")).replace(".", "_"), None)
        try:
            if handler is None:
                raise Refusal("unknown_op", _("The kit does not know %(op)s.",
                                              op=str(msg.get("op"))[:40]))
            value = handler(msg)
        except Refusal as exc:
            self._send({"id": rid, "error": {"code": exc.code,
                                             "message": self.link.render(exc.message)
                                             if isinstance(exc.message, Message)
                                             else str(exc.message)}})
            return
        except PinsBusy as exc:
            self._send({"id": rid, "error": {"code": "pins_busy",
                                             "message": self.link.render(_busy(exc))}})
            return
        except Exception as exc:     # the pin library's own error, e.g. PinSetInput
            self._send({"id": rid, "error": {"code": type(exc).__name__,
                                             "message": str(exc)}})
            return
        self._send({"id": rid, "ok": True, "value": value})

    # ---- operations ---------------------------------------------------------------------
    def op_hello(self, msg: dict[str, Any]) -> dict[str, Any]:
        report = msg.get("report")
        self.report = report if isinstance(report, dict) else {}
        if self.on_hello is not None:
            self.on_hello(self.report)
        return {"revision": self.link.revision, "holder": self.holder.id}

    def _take_pins(self) -> None:
        if self.lease is not None and self.lease.active:
            return
        self.lease = self.link.pins.acquire(self.holder, on_preempt=self._preempted)
        if self.link.on_lease is not None:
            self.link.on_lease()

    def _preempted(self) -> None:
        log.info("%s lost the kit's pins", self.holder.id)
        if self.on_preempt is not None:
            self.on_preempt()
        self._closed.set()

    def _pin(self, msg: dict[str, Any]) -> Any:
        number = msg.get("pin")
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 27:
            raise Refusal("bad_pin", _("GPIO pins are numbered 0 to 27."))
        if number not in self._saved:
            raise Refusal("not_open", _("Pin %(pin)s is not open.", pin=number))
        return self.link.factory.pin(number)

    def op_pin_open(self, msg: dict[str, Any]) -> None:
        number = msg.get("pin")
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 27:
            raise Refusal("bad_pin", _("GPIO pins are numbered 0 to 27."))
        self._take_pins()
        if number not in self._saved:
            pin = self.link.factory.pin(number)
            self._saved[number] = _snapshot(pin)

    def op_pin_close(self, msg: dict[str, Any]) -> None:
        self._pin(msg)
        self._restore(int(msg["pin"]))

    def op_pin_get(self, msg: dict[str, Any]) -> Any:
        pin = self._pin(msg)
        attr = msg.get("attr")
        if attr not in ATTRS:
            raise Refusal("bad_attr", _("A pin has no %(attr)s.", attr=str(attr)[:20]))
        return getattr(pin, attr)

    def op_pin_set(self, msg: dict[str, Any]) -> None:
        pin = self._pin(msg)
        attr, value = msg.get("attr"), msg.get("value")
        if not (self.lease is not None and self.lease.active):
            raise Refusal("pins_lost", _("The kit's pins were taken over; the program stops."))
        if attr == "function":
            if value not in FUNCTIONS:
                raise Refusal("bad_value", _("A pin is an input or an output."))
            number = int(msg["pin"])
            if value == "output" and number in self.link.inputs:
                raise Refusal("input_pin", _(
                    "Pin %(pin)s is wired to the kit's %(device)s, an input: a program may "
                    "read it but not drive it.", pin=number, device=self.link.inputs[number]))
        elif attr == "state":
            value = _number(float(value) if isinstance(value, bool) else value, 0.0, 1.0)
        elif attr == "pull":
            if value not in PULLS:
                raise Refusal("bad_value", _("A pull is up, down or floating."))
        elif attr == "frequency":
            value = None if value is None else _number(value, 0.1, 40000.0)
        elif attr == "bounce":
            value = None if value is None else _number(value, 0.0, 1.0)
        elif attr == "edges":
            if value not in EDGES:
                raise Refusal("bad_value", _("Edges are both, rising or falling."))
        else:
            raise Refusal("bad_attr", _("A pin has no %(attr)s.", attr=str(attr)[:20]))
        setattr(pin, attr, value)

    def op_pin_watch(self, msg: dict[str, Any]) -> None:
        pin = self._pin(msg)
        number = int(msg["pin"])
        if msg.get("on"):
            if number in self._watch:
                return
            previous = pin.when_changed

            def changed(ticks: Any, state: Any) -> None:
                if previous is not None:
                    previous(ticks, state)
                self._send({"event": "edge", "pin": number, "state": state})

            self._watch[number] = (previous, changed)   # a strong ref: pins keep weak ones
            pin.when_changed = changed
        else:
            self._unwatch(number)

    def _unwatch(self, number: int) -> None:
        entry = self._watch.pop(number, None)
        if entry is None:
            return
        previous, _changed = entry
        try:
            self.link.factory.pin(number).when_changed = previous
        except Exception:
            log.debug("could not restore pin %s's callback", number, exc_info=True)

    def op_camera_read(self, msg: dict[str, Any]) -> dict[str, Any]:
        camera = self.link.camera
        if camera is None:
            raise Refusal("no_camera", _("The kit has no camera."))
        after = msg.get("after", 0)
        after = after if isinstance(after, int) and not isinstance(after, bool) else 0
        frame = camera.wait_for_frame(after, timeout=5.0)
        if frame is None:
            raise Refusal("no_frame", _("The camera sent no picture."))
        image = frame.image
        return {"seq": frame.seq, "shape": list(image.shape), "dtype": str(image.dtype),
                "data": base64.b64encode(image.tobytes()).decode("ascii")}

    def op_vision_faces(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        if self.link.faces is None:
            raise Refusal("no_detector", _("The kit cannot look for faces."))
        return self.link.faces()

    def op_vision_detect(self, msg: dict[str, Any]) -> dict[str, Any]:
        task = msg.get("task")
        if self.link.detect is None:
            raise Refusal("no_detector", _("The kit cannot run vision tasks."))
        if not isinstance(task, str) or not task.isidentifier() or len(task) > 30:
            raise Refusal("bad_value", _("Name a vision task, e.g. \"hands\"."))
        colour = msg.get("colour")
        if colour is None:
            return self.link.detect(task)
        if not isinstance(colour, str) or not colour.isidentifier() or len(colour) > 20:
            raise Refusal("bad_value", _("Name a colour, e.g. \"red\"."))
        return self.link.detect(task, colour=colour)

    def op_sensor_read(self, msg: dict[str, Any]) -> Any:
        name = msg.get("name")
        if self.link.sensors is None:
            raise Refusal("no_sensor", _("The kit has no sensors."))
        if not isinstance(name, str) or not name.isidentifier() or len(name) > 30:
            raise Refusal("bad_value", _("Name a sensor of the kit, e.g. \"light\"."))
        return self.link.sensors(name)

    def op_learn_predict(self, msg: dict[str, Any]) -> dict[str, Any]:
        name = msg.get("project")
        if self.link.predict is None:
            raise Refusal("no_learn", _("The kit cannot run teachable models."))
        if not isinstance(name, str) or not name.strip() or len(name) > 60:
            raise Refusal("bad_value", _("Name one of your teachable projects."))
        return self.link.predict(name.strip(), self.owner)

    def op_sound_level(self, msg: dict[str, Any]) -> float:
        if self.link.sound is None:
            raise Refusal("no_microphone", _("The kit has no microphone."))
        return self.link.sound()

    def op_audio_heard(self, msg: dict[str, Any]) -> bool:
        """Whether the kit heard the command word since this program last asked about it (the
        first time: since the program connected)."""
        word = msg.get("word")
        if not isinstance(word, str) or not word.strip() or len(word) > 40:
            raise Refusal("bad_value", _("Name a command word the kit was taught, e.g. "
                                         "\"开灯\"."))
        if self.link.words is None:
            raise Refusal("no_microphone", _("The kit has no microphone."))
        ears = self.link.words()
        word = word.strip()
        known = ears.words
        if word not in known:
            raise Refusal("bad_value", _("The kit was taught the command words %(words)s.",
                                         words=", ".join(known)))
        cursor = self._heard.get(word)
        if cursor is None:
            cursor = ears.cursor(before=self.started)
        heard, self._heard[word] = ears.since(word, cursor)
        return heard

    def op_say(self, msg: dict[str, Any]) -> None:
        text = msg.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 500:
            raise Refusal("bad_value", _("Say some text (at most 500 characters)."))
        if self.link.speaker is None:
            raise Refusal("no_speaker", _("The kit has no speaker."))
        lang = msg.get("lang") if msg.get("lang") in ("zh_CN", "en") else "zh_CN"
        self.link.speaker.say(text, lang)

    # ---- the end ---------------------------------------------------------------------------
    def _restore(self, number: int) -> None:
        self._unwatch(number)
        saved = self._saved.pop(number, None)
        if saved is None:
            return
        try:
            _put_back(self.link.factory.pin(number), saved)
        except Exception:
            log.warning("could not put pin %s back", number, exc_info=True)

    def close(self) -> None:
        """Put the pins back, hand the lease back and let the kit resume; a caller that
        arrives while another is doing this returns only once it is done."""
        with self._close_lock:
            if self._closing:
                return
            self._closing = True
            self._closed.set()
            for number in list(self._saved):
                self._restore(number)
            if self.lease is not None and self.lease.active:
                self.lease.release()
                if self.link.on_release is not None:
                    try:
                        self.link.on_release()
                    except Exception:
                        log.exception("after a program: handing the pins back failed")
            try:
                self.sock.close()
            except OSError:
                pass
            self.link._done(self)


def _busy(exc: PinsBusy) -> Message:
    holder = exc.holder.describe()
    kind, name = holder.get("kind"), holder.get("name") or ""
    if kind == "lab" and name:
        return _("The kit's pins are in use: %(name)s's lab is running. Run your program when "
                 "the lab has finished.", name=name)
    if kind == "lab":
        return _("The kit's pins are in use: a lab is running. Run your program when the lab "
                 "has finished.")
    return _("The kit's pins are in use (%(kind)s). Run your program when it has finished.",
             kind=str(kind))


def _snapshot(pin: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in ("function", "frequency", "state", "pull"):
        try:
            out[attr] = getattr(pin, attr)
        except Exception:
            out[attr] = None
    return out


def _put_back(pin: Any, saved: dict[str, Any]) -> None:
    """Undo a program's changes to one pin: PWM off, output low, then the old function."""
    if pin.frequency is not None:
        pin.frequency = None
    if pin.function == "output":
        pin.state = 0
    if saved.get("function") and pin.function != saved["function"]:
        pin.function = saved["function"]
    if pin.function == "output":
        if saved.get("frequency") is not None:
            pin.frequency = saved["frequency"]
        pin.state = saved.get("state") or 0
    elif saved.get("pull"):
        try:
            pin.pull = saved["pull"]
        except Exception:
            log.debug("could not put back the pull of %r", pin, exc_info=True)
