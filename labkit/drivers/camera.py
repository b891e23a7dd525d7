"""The kit's camera: one capture thread owns the device, everyone else reads the latest frame.

Backends, tried in this order for `source="auto"`: picamera2 (a Pi camera module), OpenCV
`VideoCapture` (a USB webcam), then a synthetic scene so a laptop with no camera still shows a
live picture. An explicit source — a camera index, an image or video file, ``synthetic`` — is
used as given and is an error if it cannot be opened.

Frames are BGR ``uint8`` numpy arrays. `read()` never blocks: it hands back the newest frame and
its sequence number, so a slow consumer skips frames instead of slowing the camera down. If the
device disappears the thread keeps trying to reopen it; readers keep getting the last good frame
and `connected` turns False until it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

import cv2
import numpy as np

from labkit.config import Settings
from labkit.drivers.hardware import resolve_hardware
from labkit.errors import LabkitError
from labkit.exitstop import stop_at_exit

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class Frame:
    """One captured frame: the BGR pixels, a sequence number that only grows, and when."""

    image: np.ndarray
    seq: int
    timestamp: float


class FrameSource(Protocol):
    """What a camera backend provides. `grab()` raises OSError when the device is gone."""

    name: str

    def open(self) -> None: ...

    def grab(self) -> np.ndarray: ...

    def close(self) -> None: ...


class SyntheticSource:
    """A moving scene drawn with OpenCV: shapes, a simple face-like pattern and a clock.

    Deterministic for a given seed and frame number, so tests can rely on what it shows.
    `set_scene()` lets a test or the virtual bench change what is in view (e.g. hide the face).

    The face is drawn so that BlazeFace (labkit.vision.FaceDetector) really detects it, and it
    walks out of view and back periodically — in view for FACE_IN_SECONDS, away for
    FACE_AWAY_SECONDS, by frame number — so a lab in sim mode can watch "a face appeared N
    times". `set_scene(face_walks=False)` keeps it in view; `set_scene(face=False)` hides it.
    """

    name = "synthetic"
    FACE_IN_SECONDS = 4.0
    FACE_AWAY_SECONDS = 2.0

    def __init__(self, width: int = 640, height: int = 480, seed: int = 0, fps: float = 15.0):
        self.width, self.height, self.seed, self.fps = width, height, seed, fps
        self._n = 0
        self._next_due = 0.0
        self.scene = {"face": True, "shapes": True, "face_walks": True}
        self.unplugged = False

    def set_scene(self, **parts: bool) -> None:
        self.scene.update(parts)

    def open(self) -> None:
        if self.unplugged:
            raise OSError("synthetic camera is unplugged")
        self._next_due = time.monotonic()

    def grab(self) -> np.ndarray:
        if self.unplugged:
            raise OSError("synthetic camera is unplugged")
        # Pace like a real camera instead of spinning a core.
        now = time.monotonic()
        if self._next_due > now:
            time.sleep(self._next_due - now)
        self._next_due = max(self._next_due + 1.0 / self.fps, time.monotonic() - 1.0)
        frame = self.render(self._n)
        self._n += 1
        return frame

    def render(self, n: int) -> np.ndarray:
        """Draw frame number `n` (pure function of seed, n and the scene)."""
        w, h = self.width, self.height
        rng = np.random.default_rng(self.seed)
        base = rng.integers(40, 90, size=3)
        img = np.empty((h, w, 3), np.uint8)
        img[:] = base.astype(np.uint8)
        # a soft vertical gradient so the picture is not flat
        img[:, :, 1] = np.clip(np.linspace(base[1], base[1] + 60, h), 0, 255).astype(np.uint8)[:, None]
        if self.scene.get("shapes", True):
            t = n / self.fps
            cx = int(w * (0.5 + 0.35 * np.sin(t * 0.9 + self.seed)))
            cy = int(h * 0.8)
            cv2.circle(img, (cx, cy), h // 12, (40, 40, 220), -1)
            x0 = int(w * (0.5 + 0.4 * np.cos(t * 0.6)))
            cv2.rectangle(img, (x0 - 30, 30), (x0 + 30, 90), (220, 160, 40), -1)
        if self.scene.get("face", True) and self.face_in_view(n):
            self._draw_face(img, n)
        stamp = f"labkit sim #{n}"
        cv2.putText(img, stamp, (10, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        return img

    def face_in_view(self, n: int) -> bool:
        """Whether frame `n` shows the face (ignoring `set_scene(face=False)`)."""
        if not self.scene.get("face_walks", True):
            return True
        period = round((self.FACE_IN_SECONDS + self.FACE_AWAY_SECONDS) * self.fps)
        return (n % period) < round(self.FACE_IN_SECONDS * self.fps)

    def _draw_face(self, img: np.ndarray, n: int) -> None:
        from labkit.drivers.scenes import draw_face

        h, w = img.shape[:2]
        sway = int(w * 0.05 * np.sin(n / self.fps * 1.3))
        draw_face(img, w // 2 + sway, int(h * 0.42), int(h * 0.2))

    def close(self) -> None:
        pass


class ImageFileSource:
    """A still image shown as a live camera (each grab returns a copy)."""

    def __init__(self, path: str | Path, fps: float = 15.0):
        self.path = Path(path)
        self.name = f"image:{self.path.name}"
        self.fps = fps
        self._image: np.ndarray | None = None

    def open(self) -> None:
        image = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"cannot read image file {self.path}")
        self._image = image

    def grab(self) -> np.ndarray:
        if self._image is None:
            raise OSError("image source is not open")
        time.sleep(1.0 / self.fps)
        return self._image.copy()

    def close(self) -> None:
        self._image = None


class OpenCVSource:
    """A USB webcam (by index) or a video file (looped) through OpenCV's VideoCapture."""

    def __init__(self, target: int | str | Path, width: int = 640, height: int = 480):
        self.target = target
        self.width, self.height = width, height
        self.is_file = not isinstance(target, int)
        self.name = f"opencv:{target}"
        self._cap: cv2.VideoCapture | None = None
        self._file_fps = 15.0

    def open(self) -> None:
        if self.is_file:
            cap = cv2.VideoCapture(str(self.target))
        else:
            cap = cv2.VideoCapture(int(self.target), cv2.CAP_V4L2)
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        ok, _ = (cap.read() if cap.isOpened() else (False, None))
        if not ok:
            cap.release()
            raise OSError(f"cannot open camera {self.target}")
        if self.is_file:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._file_fps = cap.get(cv2.CAP_PROP_FPS) or 15.0
        self._cap = cap

    def grab(self) -> np.ndarray:
        if self._cap is None:
            raise OSError("camera is not open")
        ok, frame = self._cap.read()
        if not ok and self.is_file:  # loop video files
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
        if not ok or frame is None:
            raise OSError(f"camera {self.target} stopped delivering frames")
        if self.is_file:
            time.sleep(1.0 / self._file_fps)
        return frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class Picamera2Source:
    """A Raspberry Pi camera module through picamera2 (installed from apt on the Pi)."""

    name = "picamera2"

    def __init__(self, width: int = 640, height: int = 480, index: int = 0):
        self.width, self.height, self.index = width, height, index
        self._cam = None

    @staticmethod
    def available() -> bool:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except Exception:
            return False
        try:
            return bool(Picamera2.global_camera_info())
        except Exception:
            return False

    def open(self) -> None:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError as exc:
            raise OSError("picamera2 is not installed") from exc
        cam = Picamera2(self.index)
        # RGB888 in libcamera is BGR byte order in memory, which is what OpenCV expects.
        config = cam.create_video_configuration(
            main={"size": (self.width, self.height), "format": "RGB888"}
        )
        cam.configure(config)
        cam.start()
        self._cam = cam

    def grab(self) -> np.ndarray:
        if self._cam is None:
            raise OSError("picamera2 is not open")
        try:
            return self._cam.capture_array("main")
        except Exception as exc:  # libcamera raises RuntimeError on a lost camera
            raise OSError(f"picamera2 capture failed: {exc}") from exc

    def close(self) -> None:
        if self._cam is not None:
            try:
                self._cam.stop()
                self._cam.close()
            finally:
                self._cam = None


def make_source(spec: str, *, hardware: str | None = None, width: int = 640, height: int = 480,
                seed: int = 0) -> FrameSource:
    """Turn a camera setting (auto, synthetic, an index, a file path) into a backend."""
    spec = (spec or "auto").strip()
    if hardware is None:
        hardware = resolve_hardware(Settings.from_env().hardware)
    if spec == "synthetic":
        return SyntheticSource(width, height, seed=seed)
    if spec == "auto":
        if hardware == "sim":
            return SyntheticSource(width, height, seed=seed)
        if Picamera2Source.available():
            return Picamera2Source(width, height)
        if any(Path("/dev").glob("video[0-9]*")):
            return OpenCVSource(0, width, height)
        if hardware == "real":
            raise LabkitError("no camera found", code="no_camera",
                              fix="connect a camera, or set LABKIT_CAMERA=synthetic")
        return SyntheticSource(width, height, seed=seed)
    if spec.isdigit():
        return OpenCVSource(int(spec), width, height)
    path = Path(spec).expanduser()
    if not path.is_file() and not path.suffix:
        raise LabkitError(f"camera source {spec!r} is not a camera index or a file",
                          code="no_camera",
                          fix="set LABKIT_CAMERA to auto, synthetic, a number like 0, or a file path")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFileSource(path)
    return OpenCVSource(path, width, height)


def _absent_file(source: FrameSource) -> bool:
    """A file source whose file is not there (yet): a USB stick not plugged in."""
    target = getattr(source, "path", None) or getattr(source, "target", None)
    return isinstance(target, Path) and not target.exists()


class Camera:
    """The shared camera. Start it once; read the newest frame from any thread.

    >>> cam = Camera("synthetic")
    >>> frame = cam.wait_for_frame()
    >>> frame.image.shape
    (480, 640, 3)
    """

    def __init__(self, source: str | FrameSource = "auto", *, hardware: str | None = None,
                 width: int = 640, height: int = 480, seed: int = 0,
                 reconnect_delay: float = 0.5, start: bool = True,
                 missing_ok: bool = False) -> None:
        self.source: FrameSource = (make_source(source, hardware=hardware, width=width,
                                                height=height, seed=seed)
                                    if isinstance(source, str) else source)
        self.reconnect_delay = reconnect_delay
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False
        self.reconnects = 0
        self.last_error: str | None = None
        self._play: Callable[[float], np.ndarray] | None = None
        #: applied to every picture before anyone sees it (a lab's robustness sliders); None
        #: for the picture as it is
        self.filter: Callable[[np.ndarray], np.ndarray] | None = None
        self._play_start = 0.0
        self._play_fps = 15.0
        # missing_ok: a camera file absent at start is retried in the background (the server
        # starts and the page says so) instead of refusing to start.
        self.missing_ok = missing_ok
        if start:
            self.start()

    def play(self, render: Callable[[float], np.ndarray] | None, fps: float = 15.0) -> None:
        """Show `render(seconds since play began)` instead of the device (a lab's demo
        scenario on the page); `play(None)` goes back to the device."""
        with self._cond:
            self._play = render
            self._play_start = time.monotonic()
            self._play_fps = fps

    @property
    def playing(self) -> bool:
        return self._play is not None

    @property
    def played(self) -> Callable[[float], np.ndarray] | None:
        """The render function `play` shows now (None: the device), so whoever plays a
        scene can tell whether it is still its own."""
        return self._play

    @property
    def name(self) -> str:
        return self.source.name

    def start(self) -> "Camera":
        """Open the device (raising a clear error if it cannot) and start the capture thread."""
        if self._thread is not None:
            return self
        try:
            self.source.open()
        except OSError as exc:
            if self.missing_ok and _absent_file(self.source):
                log.warning("camera %s is not there at start (%s); retrying in the background",
                            self.source.name, exc)
                self.connected = False
                self.last_error = str(exc)
                self._thread = threading.Thread(target=self._wait_then_run,
                                                name="labkit-camera", daemon=True)
                self._thread.start()
                stop_at_exit(self.close)
                return self
            raise LabkitError(f"camera {self.source.name} cannot be opened: {exc}",
                              code="no_camera",
                              fix="check the cable and that no other program uses the camera, "
                                  "or set LABKIT_CAMERA=synthetic") from None
        self.connected = True
        self._thread = threading.Thread(target=self._run, name="labkit-camera", daemon=True)
        self._thread.start()
        stop_at_exit(self.close)
        return self

    def _wait_then_run(self) -> None:
        self._lost(OSError(self.last_error or "camera missing"), announce=False)
        self._run()

    def _run(self) -> None:
        while not self._stop.is_set():
            render = self._play
            if render is not None:
                self._stop.wait(1.0 / self._play_fps)
                try:
                    image = render(time.monotonic() - self._play_start)
                except Exception:  # a broken scene must not kill the capture thread
                    log.exception("camera: the played scene failed")
                    self._play = None
                    continue
            else:
                try:
                    image = self.source.grab()
                except OSError as exc:
                    self._lost(exc)
                    continue
            picture_filter = self.filter
            if picture_filter is not None:
                try:
                    image = picture_filter(image)
                except Exception:  # a broken filter must not kill the capture thread
                    log.exception("camera: the picture filter failed; removed")
                    self.filter = None
            with self._cond:
                if self._play is not render:
                    # `play` changed what is shown while this picture was made: once `play`
                    # returns, every new frame shows the new scene (or the device again)
                    continue
                self._seq += 1
                self._frame = Frame(image, self._seq, time.time())
                self._cond.notify_all()

    def _lost(self, exc: OSError, announce: bool = True) -> None:
        if self.connected and announce:
            log.warning("camera %s lost: %s; retrying", self.source.name, exc)
        self.connected = False
        self.last_error = str(exc)
        try:
            self.source.close()
        except Exception:  # closing a vanished device may fail; we reopen anyway
            pass
        while not self._stop.wait(self.reconnect_delay):
            try:
                self.source.open()
            except OSError:
                continue
            self.connected = True
            self.reconnects += 1
            log.info("camera %s reconnected", self.source.name)
            return

    def read(self) -> Frame | None:
        """The newest frame, or None before the first one. Never blocks."""
        return self._frame

    def wait_for_frame(self, after_seq: int = 0, timeout: float = 5.0) -> Frame | None:
        """Block until a frame newer than `after_seq` exists (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._frame is None or self._frame.seq <= after_seq:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(remaining)
            return self._frame

    def frames(self, timeout: float = 5.0) -> Iterator[Frame]:
        """Each new frame once, until the camera is closed."""
        seq = 0
        while not self._stop.is_set():
            frame = self.wait_for_frame(seq, timeout)
            if frame is None:
                continue
            seq = frame.seq
            yield frame

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        try:
            self.source.close()
        except Exception:
            pass
        self.connected = False

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> "Camera":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
