"""Bad input: empty, wrong dtype/shape, grayscale/RGBA, float, 4K — converted or a clear error."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from labkit.errors import LabkitError
from labkit.vision.frames import FrameError, prepare, to_bgr
from tests.unit.vision.conftest import oracle_images


@pytest.fixture(scope="module")
def astronaut_bgr() -> np.ndarray:
    return cv2.cvtColor(oracle_images.image("astronaut"), cv2.COLOR_RGB2BGR)


@pytest.mark.parametrize("bad, words", [
    (None, "no frame"),
    (np.zeros((0, 0, 3), np.uint8), "empty"),
    (np.zeros((480, 640, 5), np.uint8), "shape"),
    (np.zeros(640, np.uint8), "shape"),
    (np.zeros((4, 4, 3), np.uint8), "only 4×4"),
    (np.zeros((48, 64, 3), np.int32), "int32"),
    (np.zeros((48, 64, 3), np.complex64), "complex64"),
    (np.full((48, 64, 3), np.nan, np.float32), "NaN"),
    (np.full((48, 64, 3), 300.0), "0–1 or 0–255"),
    ("not an image", "not an image"),
])
def test_bad_frames_raise_a_clear_error(bad: Any, words: str) -> None:
    with pytest.raises(FrameError, match=words) as info:
        to_bgr(bad)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, LabkitError)
    assert err.code == "bad_frame" and err.fix


def test_huge_frame_is_refused_without_allocating() -> None:
    # a broadcast view: 20000×20000×3 "pixels" that take no memory
    view = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (20000, 20000, 3))
    with pytest.raises(FrameError, match="too big"):
        prepare(view)


def test_conversions(astronaut_bgr: np.ndarray) -> None:
    gray = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)
    assert to_bgr(gray).shape == (512, 512, 3)
    assert to_bgr(gray[:, :, None]).shape == (512, 512, 3)
    rgba = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2BGRA)
    assert np.array_equal(to_bgr(rgba), astronaut_bgr)
    as_float = astronaut_bgr.astype(np.float32) / 255.0
    assert np.abs(to_bgr(as_float).astype(int) - astronaut_bgr).max() <= 1
    assert to_bgr(astronaut_bgr.astype(np.uint16) * 257).dtype == np.uint8
    assert to_bgr(np.ones((10, 10), bool)).max() == 255


def test_every_kind_of_frame_finds_the_face(face_detector: Any, astronaut_bgr: np.ndarray) -> None:
    ref = face_detector.detect(astronaut_bgr).faces[0].box
    gray = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)
    rgba = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2BGRA)
    for frame in (gray, rgba, astronaut_bgr.astype(np.float64) / 255.0):
        got = face_detector.detect(frame).faces
        assert len(got) == 1 and got[0].box.iou(ref) > 0.85


def test_4k_frame_is_shrunk_and_results_are_in_its_pixels(face_detector: Any,
                                                         astronaut_bgr: np.ndarray) -> None:
    """A 3840×2160 frame is detected at 1920×1080 and the box comes back in 4K pixels:
    twice the box found on the same picture at 1080p."""
    from labkit.vision.types import Box

    frame = cv2.resize(astronaut_bgr, (3840, 2160), interpolation=cv2.INTER_CUBIC)
    prepared = prepare(frame)
    assert prepared.image.shape[:2] == (1080, 1920) and prepared.size == (3840, 2160)
    result = face_detector.detect(frame)
    assert (result.width, result.height) == (3840, 2160)
    small = face_detector.detect(cv2.resize(frame, (1920, 1080), interpolation=cv2.INTER_AREA))
    ref = small.faces[0].box
    expected = Box(ref.x * 2, ref.y * 2, ref.w * 2, ref.h * 2)
    assert len(result.faces) == 1 and result.faces[0].box.iou(expected) > 0.95


def test_camera_frame_objects_are_accepted(face_detector: Any, astronaut_bgr: np.ndarray) -> None:
    from labkit.drivers import Frame

    face_detector.detect(Frame(astronaut_bgr, 42, 0.0))
    assert face_detector.last_seq == 42 and face_detector.count.value == 1
