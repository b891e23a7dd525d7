"""MJPEG live view: each new camera frame is JPEG-encoded once, for every viewer.

A broadcaster thread waits for new frames while anyone is watching, encodes each exactly once
and publishes the bytes; each viewer's response generator sends the newest encoded frame it has
not sent yet. With 10 browsers open the Pi still does one encode per frame, not ten.
"""

from __future__ import annotations

import threading
import time
from typing import Iterator

import cv2
from flask import Blueprint, Response, current_app, jsonify

from labkit.drivers.camera import Camera
from labkit.web.access import ANONYMOUS, allow

BOUNDARY = "labkitframe"


class FrameBroadcaster:
    """Encodes the camera's frames to JPEG once each and shares them with all viewers."""

    def __init__(self, camera: Camera, quality: int = 75, idle_stop: float = 5.0) -> None:
        self.camera = camera
        self.quality = quality
        self.idle_stop = idle_stop
        self._cond = threading.Condition()
        self._jpeg: bytes | None = None
        self._seq = 0
        self._viewers = 0
        self._last_viewer = time.monotonic()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.encodes = 0
        self.frames_seen = 0

    @property
    def viewers(self) -> int:
        return self._viewers

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
                self._cond.notify_all()
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
        """multipart/x-mixed-replace body for one viewer."""
        with self._cond:
            self._viewers += 1
        try:
            seq = 0
            while not self._stop.is_set():
                item = self.latest(seq, timeout=2.0)
                if item is None:
                    continue
                seq, jpeg = item
                yield (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                       f"Content-Length: {len(jpeg)}\r\nX-Frame-Seq: {seq}\r\n\r\n").encode()
                yield jpeg + b"\r\n"
        finally:
            with self._cond:
                self._viewers -= 1
                self._last_viewer = time.monotonic()

    def stats(self) -> dict[str, int | bool]:
        return {"encodes": self.encodes, "frames_seen": self.frames_seen,
                "viewers": self._viewers, "camera_seq": (self.camera.read().seq
                                                          if self.camera.read() else 0),
                "connected": self.camera.connected}

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()


bp = Blueprint("stream", __name__)


def broadcaster() -> FrameBroadcaster:
    runtime = current_app.extensions["labkit"]
    return runtime.service("mjpeg", lambda: FrameBroadcaster(runtime.camera))


@bp.get("/stream.mjpg")
@allow(ANONYMOUS)
def mjpeg() -> Response:
    response = Response(broadcaster().stream(),
                        mimetype=f"multipart/x-mixed-replace; boundary={BOUNDARY}")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


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
