"""A gpiozero pin factory whose pins live in the kit process: `LED(17)` in a student program
moves the kit's LED, and the bench on the page shows it.

A student program never opens GPIO itself (it may run as an unprivileged user with no device
access, and the kit already owns the pins). Each pin operation is one JSON line over a local
Unix socket to the kit (`labkit.sandbox.link` answers); input edges come back the same way,
so `Button.when_pressed` fires in the program. The kit holds its pin lease for the program
while it is connected: if a lab holds the pins, opening a pin fails with the kit's message.

In the kit's sandbox the connection is an inherited socket (set up by `boot.py`). From a
terminal on the kit, point the program at the kit's socket:

    LABKIT_KIT_SOCKET=/var/lib/labkit/kit.sock GPIOZERO_PIN_FACTORY=labkit python my_program.py

(`GPIOZERO_PIN_FACTORY=labkit` names this factory through the `gpiozero_pin_factories` entry
point; `import labkit.program` installs it too).

Wire format, one JSON object per line each way:
    → {"id": 3, "op": "pin.set", "pin": 17, "attr": "state", "value": 1}
    ← {"id": 3, "ok": true, "value": null}      or {"id": 3, "error": {"code", "message"}}
    ← {"event": "edge", "pin": 26, "state": 0}  (a watched input changed)
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

from gpiozero import Device, GPIOZeroError
from gpiozero.pins.pi import PiFactory, PiPin

SOCKET_ENV = "LABKIT_KIT_SOCKET"
SOCKET_NAME = "kit.sock"
CALL_TIMEOUT = 30.0


class KitError(GPIOZeroError):
    """The kit refused a request (its message says why: e.g. a lab holds the pins)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class KitUnavailable(GPIOZeroError, ConnectionError):
    """The kit's socket cannot be reached (the kit is not running, or it is another user's)."""


def default_socket_path() -> Path:
    """Where `labkit serve` listens: LABKIT_KIT_SOCKET, else `<data dir>/kit.sock`."""
    if os.environ.get(SOCKET_ENV):
        return Path(os.environ[SOCKET_ENV])
    data = os.environ.get("LABKIT_DATA") or str(Path.home() / ".local" / "share" / "labkit")
    return Path(data) / SOCKET_NAME


class KitConnection:
    """One line-delimited JSON conversation with the kit, shared by pins and the camera."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._file = sock.makefile("rb")
        self._send_lock = threading.Lock()
        self._next_id = 0
        self._waiting: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._listeners: dict[int, Callable[[dict[str, Any]], None]] = {}
        self.closed = False
        self.info: dict[str, Any] = {}
        self._reader = threading.Thread(target=self._read, name="labkit-kit-link", daemon=True)
        self._reader.start()

    @classmethod
    def from_fd(cls, fd: int) -> "KitConnection":
        return cls(socket.socket(fileno=fd))

    @classmethod
    def connect(cls, path: os.PathLike[str] | str | None = None) -> "KitConnection":
        target = Path(path) if path is not None else default_socket_path()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(target))
        except OSError as exc:
            sock.close()
            raise KitUnavailable(f"cannot reach the kit at {target} ({exc.strerror or exc}); "
                                 "is `labkit serve` running? set LABKIT_KIT_SOCKET to its "
                                 "socket") from None
        conn = cls(sock)
        conn.hello({"terminal": True})
        return conn

    def hello(self, report: dict[str, Any]) -> dict[str, Any]:
        """Tell the kit who we are (and which protections are in force); learn the board."""
        self.info = self.call("hello", report=report, pid=os.getpid())
        return self.info

    # ---- requests -------------------------------------------------------------------------
    def call(self, op: str, **args: Any) -> Any:
        with self._cond:
            if self.closed:
                raise KitUnavailable("the connection to the kit is closed")
            self._next_id += 1
            rid = self._next_id
        line = json.dumps({"id": rid, "op": op, **args}, separators=(",", ":")) + "\n"
        with self._send_lock:
            try:
                self.sock.sendall(line.encode("utf-8"))
            except OSError as exc:
                raise KitUnavailable(f"the kit went away ({exc})") from None
        deadline = time.monotonic() + CALL_TIMEOUT
        with self._cond:
            while rid not in self._waiting:
                remaining = deadline - time.monotonic()
                if self.closed or remaining <= 0:
                    raise KitUnavailable("the kit did not answer")
                self._cond.wait(remaining)
            reply = self._waiting.pop(rid)
        if "error" in reply:
            err = reply["error"]
            raise KitError(str(err.get("code", "error")), str(err.get("message", "")))
        return reply.get("value")

    def listen(self, pin: int, callback: Callable[[dict[str, Any]], None] | None) -> None:
        if callback is None:
            self._listeners.pop(pin, None)
        else:
            self._listeners[pin] = callback

    def _read(self) -> None:
        try:
            for raw in self._file:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if "event" in msg:
                    callback = self._listeners.get(msg.get("pin"))
                    if callback is not None:
                        try:
                            callback(msg)
                        except Exception:   # a handler's error must not end the link
                            import traceback

                            traceback.print_exc()
                    continue
                with self._cond:
                    self._waiting[int(msg.get("id", 0))] = msg
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


_shared: KitConnection | None = None
_shared_lock = threading.Lock()


def shared_connection() -> KitConnection:
    """The process' connection to the kit (inherited in the sandbox, else the kit's socket)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.closed:
            _shared = KitConnection.connect()
        return _shared


def install(conn: KitConnection) -> "KitPinFactory":
    """Make `conn` the process' kit connection and its pins gpiozero's default."""
    global _shared
    with _shared_lock:
        _shared = conn
    factory = KitPinFactory(conn)
    Device.pin_factory = factory
    return factory


class KitPinFactory(PiFactory):
    """gpiozero's factory for pins that live in the kit process (see the module doc)."""

    def __init__(self, connection: KitConnection | None = None) -> None:
        super().__init__()
        self.connection = connection or shared_connection()
        self.pin_class = KitPin
        self._t0 = time.monotonic()

    def _get_revision(self) -> int:
        return int(str(self.connection.info.get("revision", "c03112")), 16)

    def _get_spi_class(self, shared: bool, hardware: bool) -> Any:
        raise KitError("no_spi", "SPI devices are read through the kit: use "
                       "labkit.program.sensor(name)")

    def ticks(self) -> float:
        return time.monotonic()

    @staticmethod
    def ticks_diff(later: float, earlier: float) -> float:
        return later - earlier


class KitPin(PiPin):
    """One GPIO pin of the kit; every property is a request to the kit."""

    def __init__(self, factory: KitPinFactory, info: Any) -> None:
        super().__init__(factory, info)
        self._conn = factory.connection
        self._edges = "both"
        self._conn.call("pin.open", pin=self._number)

    def _get(self, attr: str) -> Any:
        return self._conn.call("pin.get", pin=self._number, attr=attr)

    def _set(self, attr: str, value: Any) -> None:
        self._conn.call("pin.set", pin=self._number, attr=attr, value=value)

    def close(self) -> None:
        if self._conn.closed:
            return
        self.when_changed = None
        try:
            self._conn.call("pin.close", pin=self._number)
        except GPIOZeroError:
            pass

    def _get_function(self) -> str:
        return str(self._get("function"))

    def _set_function(self, value: str) -> None:
        self._set("function", value)

    def _get_state(self) -> float:
        return self._get("state")

    def _set_state(self, value: float) -> None:
        self._set("state", value)

    def _get_pull(self) -> str:
        return str(self._get("pull"))

    def _set_pull(self, value: str) -> None:
        self._set("pull", value)

    def _get_frequency(self) -> float | None:
        return self._get("frequency")

    def _set_frequency(self, value: float | None) -> None:
        self._set("frequency", value)

    def _get_bounce(self) -> float | None:
        return self._get("bounce")

    def _set_bounce(self, value: float | None) -> None:
        self._set("bounce", value)

    def _get_edges(self) -> str:
        return self._edges

    def _set_edges(self, value: str) -> None:
        self._set("edges", value)
        self._edges = value

    def _enable_event_detect(self) -> None:
        self._conn.listen(self._number, self._on_event)
        self._conn.call("pin.watch", pin=self._number, on=True)

    def _disable_event_detect(self) -> None:
        self._conn.listen(self._number, None)
        if not self._conn.closed:
            self._conn.call("pin.watch", pin=self._number, on=False)

    def _on_event(self, msg: dict[str, Any]) -> None:
        self._call_when_changed(self.factory.ticks(), msg.get("state"))
