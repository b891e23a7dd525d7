"""FaceDetector against mediapipe 0.10.14's face detection (short range) on the same images."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from labkit.vision.types import Box
from tests.unit.vision.conftest import load_oracle, oracle_image

ORACLE = load_oracle("faces")


@pytest.mark.parametrize("key", sorted(ORACLE["images"]))
def test_faces_match_mediapipe(face_detector: Any, key: str) -> None:
    ref = ORACLE["images"][key]
    w, h = ref["size"]
    result = face_detector.detect(oracle_image(key, ref["sha"]))
    assert (result.width, result.height) == (w, h)
    assert len(result.faces) == len(ref["faces"]), key
    for want in ref["faces"]:
        x, y, bw, bh = want["box"]
        box = Box(x * w, y * h, bw * w, bh * h)
        got = max(result.faces, key=lambda f: f.box.iou(box))
        assert got.box.iou(box) >= 0.9
        assert got.score == pytest.approx(want["score"], abs=0.02)
        err = np.linalg.norm(np.array(got.keypoints) - np.array(want["keypoints"]) * (w, h), axis=1)
        assert err.mean() <= 0.02 * max(w, h)


def test_no_face_reports_none(face_detector: Any) -> None:
    """The cat, a building and a flower: nothing — and the device says so."""
    for key in ("chelsea/orig", "china/orig", "flower/orig"):
        result = face_detector.detect(oracle_image(key, ORACLE["images"][key]["sha"]))
        assert result.faces == ()
        assert face_detector.value == 0.0
        assert face_detector.present.value == 0.0 and face_detector.count.value == 0.0
        assert face_detector.score.value == 0.0 and face_detector.label.value == ""
