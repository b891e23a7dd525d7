"""Detectors are gpiozero devices: `LED(17).source = FaceDetector(Camera()).present.values`."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gpiozero import Device

from tests.helpers import REPO, labkit_env

STUDENT_PROGRAM = """\
from gpiozero import LED
from labkit.drivers import Camera
from labkit.vision import FaceDetector
LED(17).source = FaceDetector(Camera()).present.values
"""

# appended after the student's program: watch pin 17 for 7.5 s and print its level over time
WATCH = """
import time
from gpiozero import Device
pin = Device.pin_factory.pin(17)
t0 = time.monotonic()
while time.monotonic() - t0 < 7.5:
    print(f"{time.monotonic() - t0:.2f} {int(bool(pin.state))}", flush=True)
    time.sleep(0.05)
"""


def test_student_program_led_follows_the_walking_face(models_data_dir: Path) -> None:
    """The exact program from the issue, in sim mode: the synthetic face is in view for 4 s,
    away for 2 s, then back — the LED must be lit, go dark, and light again."""
    env = labkit_env(models_data_dir)
    proc = subprocess.run([sys.executable, "-c", STUDENT_PROGRAM + WATCH], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    samples = [(float(t), int(v)) for t, v in (line.split() for line in proc.stdout.split("\n")
                                                 if line.strip())]
    levels = [v for _, v in samples]
    runs = [levels[0]] + [b for a, b in zip(levels, levels[1:], strict=False) if a != b]
    assert runs[runs.index(1):][:3] == [1, 0, 1], samples[::10]   # lit, dark, lit again
    first_on = levels.index(1)
    dark = [t for t, v in samples[first_on:] if v == 0]
    assert 1.2 <= dark[-1] - dark[0] <= 2.8   # dark for about the 2 s the face is away


@pytest.fixture
def fresh_factory() -> Any:
    saved = Device.pin_factory
    Device.pin_factory = None
    yield
    if Device.pin_factory is not None and Device.pin_factory is not saved:
        Device.pin_factory.close()
    Device.pin_factory = saved


def test_led_source_follows_scene(models_data_dir: Path, fresh_factory: None) -> None:
    """In process: hide the face → the LED goes dark; show it → it lights (no fixed sleeps)."""
    from gpiozero import LED

    from labkit.drivers import Camera
    from labkit.vision import FaceDetector

    cam = Camera()
    cam.source.set_scene(face_walks=False)
    faces = FaceDetector(cam)
    led = LED(17)
    led.source = faces.present.values
    try:
        assert _wait(lambda: led.is_lit), "LED never lit with a face in view"
        assert faces.count.value == 1 and faces.score.value > 0.5
        cam.source.set_scene(face=False)
        assert _wait(lambda: not led.is_lit), "LED stayed lit with no face"
        cam.source.set_scene(face=True)
        assert _wait(lambda: led.is_lit)
    finally:
        led.close()
        faces.close()
        cam.close()


def _wait(cond: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_when_activated_counts_appearances(face_detector: Any) -> None:
    """Two periods of the synthetic walk = two appearances; one model run per frame."""
    from labkit.drivers.camera import SyntheticSource

    src = SyntheticSource()
    period = round((src.FACE_IN_SECONDS + src.FACE_AWAY_SECONDS) * src.fps)
    appeared, left = [], []
    # the detector is shared by the session: start from "no face" before listening, so a
    # face left in view by an earlier test does not count as a departure here
    face_detector.detect(np.zeros((120, 160, 3), np.uint8))
    assert not face_detector.is_active
    face_detector.when_activated = lambda: appeared.append(1)
    face_detector.when_deactivated = lambda: left.append(1)
    try:
        runs = face_detector.runs
        for n in range(0, 2 * period, 5):
            face_detector.detect(src.render(n))
        assert face_detector.runs - runs == len(range(0, 2 * period, 5))
    finally:
        face_detector.when_activated = None
        face_detector.when_deactivated = None
    assert len(appeared) == 2 and len(left) == 2


class CountingCamera:
    """A frame source with only `read()` (no wait_for_frame), counting how often it is read."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        self.seq = 0
        self.lock = threading.Lock()

    def read(self) -> Any:
        from labkit.drivers import Frame

        return Frame(self.image, self.seq, time.time()) if self.seq else None

    def push(self) -> None:
        self.seq += 1


def test_one_model_run_per_new_frame_for_many_consumers(model_store: Any) -> None:
    from labkit.drivers.camera import SyntheticSource
    from labkit.vision import FaceDetector

    cam = CountingCamera(SyntheticSource().render(0))
    faces = FaceDetector(cam, store=model_store)
    try:
        signals = [faces.present, faces.count, faces.score, faces.label, faces.label_is("face")]
        for _ in range(3):
            cam.push()
            assert _wait(lambda: faces.last_seq == cam.seq)
            for _ in range(20):  # many readers, no extra model runs
                [s.value for s in signals]
                next(faces.values)
        time.sleep(0.1)
        assert faces.runs == 3
        assert [s.value for s in signals] == [1.0, 1.0, pytest.approx(faces.score.value), "face",
                                              1.0]
    finally:
        faces.close()
    assert faces.closed and not faces.running


def test_detector_without_camera_refuses_start(face_detector: Any) -> None:
    with pytest.raises(ValueError, match="no camera"):
        face_detector.start()


def test_bad_frames_never_kill_the_thread(model_store: Any) -> None:
    """A camera that hands out garbage: the thread logs it, keeps going, recovers."""
    from labkit.drivers.camera import SyntheticSource
    from labkit.vision import FaceDetector

    cam = CountingCamera(np.zeros((0, 0, 3), np.uint8))
    faces = FaceDetector(cam, store=model_store)
    try:
        cam.push()
        assert _wait(lambda: faces.last_error is not None)
        assert "empty" in faces.last_error
        cam.image = SyntheticSource().render(0)
        cam.push()
        assert _wait(lambda: faces.value == 1.0)
        assert faces.running
    finally:
        faces.close()


def test_every_export_imports() -> None:
    import labkit.vision as vision

    for name in vision.__all__:
        assert getattr(vision, name).__name__ == name
    with pytest.raises(AttributeError):
        vision.NoSuchDetector  # noqa: B018
