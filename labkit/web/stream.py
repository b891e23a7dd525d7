"""MJPEG live view: each new camera frame is JPEG-encoded once, for every viewer.

A broadcaster thread waits for new frames while anyone is watching, encodes each exactly once
and publishes the bytes; each viewer's response generator sends the newest encoded frame it has
not sent yet. With 10 browsers open the Pi still does one encode per frame, not ten.

Under the kit's ASGI server a viewer is a coroutine (`astream`), not a thread: it sends the
newest frame, waits until the socket has taken it, then sends whatever is newest *then* — a
slow viewer skips frames instead of queueing them, so it holds at most one frame in flight.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable, Iterator

import cv2
from flask import Blueprint, Response, current_app, jsonify

from labkit.drivers.camera import Camera
from labkit.web.access import ANONYMOUS, allow
from labkit.web.handoff import AsyncSink, LoopWaker, StreamClosed, stream_response, wait_event

BOUNDARY = "labkitframe"

# Frames sent per second to all async viewers together. Each send costs the event loop some
# Python work; past this budget every viewer's frame rate is lowered evenly (100 viewers →
# 3 fps each) so the pages, the JSON API and the detectors keep their share of the CPU.
MAX_FRAME_SENDS_PER_SECOND = 300.0


class FrameBroadcaster:
    """Encodes the camera's frames to JPEG once each and shares them with all viewers."""

    def __init__(self, camera: Camera, quality: int = 75, idle_stop: float = 5.0) -> None:
        self.camera = camera
        self.quality = quality
        self.idle_stop = idle_stop
        self._cond = threading.Condition()
        self._jpeg: bytes | None = None
        self._part: bytes | None = None
        self._seq = 0
        self._viewers = 0
        self._last_viewer = time.monotonic()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.encodes = 0
        self.frames_seen = 0
        self.max_sends_per_second = MAX_FRAME_SENDS_PER_SECOND
        self._listeners: list[Callable[[], None]] = []
        self._wakers: dict[asyncio.AbstractEventLoop, LoopWaker] = {}

    @property
    def viewers(self) -> int:
        return self._viewers

    def attach(self) -> None:
        """One more viewer: keeps the encoder running."""
        with self._cond:
            self._viewers += 1
        self._ensure_running()

    def detach(self) -> None:
        with self._cond:
            self._viewers -= 1
            self._last_viewer = time.monotonic()

    def peek(self) -> tuple[int, bytes] | None:
        """The newest JPEG and its frame number, without waiting (None before the first)."""
        with self._cond:
            return None if self._jpeg is None else (self._seq, self._jpeg)

    def peek_part(self) -> tuple[int, bytes] | None:
        """The newest frame as one multipart part (headers + JPEG), built once per frame."""
        with self._cond:
            if self._jpeg is None:
                return None
            if self._part is None:
                self._part = part_header(self._seq, self._jpeg) + self._jpeg + b"\r\n"
            return self._seq, self._part

    def _waker(self) -> LoopWaker:
        """This event loop's waker, fired by the encoder thread after each new JPEG."""
        loop = asyncio.get_running_loop()
        with self._cond:
            waker = self._wakers.get(loop)
            if waker is None:
                waker = self._wakers[loop] = LoopWaker(loop)
                self._listeners.append(waker.fire)
            return waker

    def _ensure_running(self) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="labkit-mjpeg",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        seq = 0
        while not self._stop.is_set():
            with self._cond:
                idle = self._viewers == 0 and time.monotonic() - self._last_viewer > self.idle_stop
            if idle:
                break  # nobody watching: stop encoding (restarted by the next viewer)
            frame = self.camera.wait_for_frame(seq, timeout=0.5)
            if frame is None:
                continue
            self.frames_seen += frame.seq - seq if seq else 1
            seq = frame.seq
            ok, buf = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
            if not ok:
                continue
            with self._cond:
                self.encodes += 1
                self._jpeg = buf.tobytes()
                self._seq = frame.seq
                self._part = None  # built on first use, then shared by every async viewer
                self._cond.notify_all()
                listeners = list(self._listeners)
            for notify in listeners:
                notify()
        with self._cond:
            self._thread = None

    def latest(self, after_seq: int = 0, timeout: float = 5.0) -> tuple[int, bytes] | None:
        """The newest JPEG newer than `after_seq` (waits up to `timeout`)."""
        self._ensure_running()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._jpeg is None or self._seq <= after_seq:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(remaining)
            return self._seq, self._jpeg

    def stream(self) -> Iterator[bytes]:
        """multipart/x-mixed-replace body for one viewer (blocking: one thread per viewer)."""
        self.attach()
        try:
            seq = 0
            while not self._stop.is_set():
                item = self.latest(seq, timeout=2.0)
                if item is None:
                    continue
                seq, jpeg = item
                yield part_header(seq, jpeg)
                yield jpeg + b"\r\n"
        finally:
            self.detach()

    async def astream(self, sink: AsyncSink) -> None:
        """The same body as `stream()`, as a coroutine on the server's event loop.

        Only the newest frame is ever sent: after a write returns (the socket took it), the
        next frame sent is whatever is newest then, so frames a slow viewer missed are
        skipped, not buffered.
        """
        waker = self._waker()
        self.attach()
        try:
            seq = 0
            next_send = 0.0
            while not self._stop.is_set():
                wake = waker.current()
                item = self.peek_part()
                if item is None or item[0] <= seq:
                    await wait_event(wake, 2.0)
                    continue
                now = time.monotonic()
                if now < next_send:
                    await asyncio.sleep(next_send - now)
                    continue  # then send whatever is newest by then
                seq, part = item
                next_send = now + self._viewers / self.max_sends_per_second
                await sink.write(part)
        except StreamClosed:
            pass
        finally:
            self.detach()

    def stats(self) -> dict[str, int | bool]:
        return {"encodes": self.encodes, "frames_seen": self.frames_seen,
                "viewers": self._viewers, "camera_seq": (self.camera.read().seq
                                                          if self.camera.read() else 0),
                "connected": self.camera.connected}

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
            listeners = list(self._listeners)
        for notify in listeners:
            notify()


def part_header(seq: int, jpeg: bytes) -> bytes:
    """The multipart headers before one JPEG."""
    return (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {len(jpeg)}\r\nX-Frame-Seq: {seq}\r\n\r\n").encode()


bp = Blueprint("stream", __name__)


def broadcaster() -> FrameBroadcaster:
    runtime = current_app.extensions["labkit"]
    return runtime.service("mjpeg", lambda: FrameBroadcaster(runtime.camera))


@bp.get("/stream.mjpg")
@allow(ANONYMOUS)
def mjpeg() -> Response:
    frames = broadcaster()
    return stream_response(frames.astream, frames.stream,
                           f"multipart/x-mixed-replace; boundary={BOUNDARY}")


@bp.get("/snapshot.jpg")
@allow(ANONYMOUS)
def snapshot() -> Response:
    item = broadcaster().latest(0, timeout=5.0)
    if item is None:
        from labkit.errors import LabkitError
        raise LabkitError("the camera has not delivered a picture yet", code="busy",
                          fix="wait a moment, or check the camera in 'labkit doctor'")
    response = Response(item[1], mimetype="image/jpeg")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/stream/stats")
@allow(ANONYMOUS)
def stats() -> Response:
    return jsonify(broadcaster().stats())
