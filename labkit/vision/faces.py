"""Faces: BlazeFace (mediapipe's short-range face detector, 128×128) with our own decoding.

    from labkit.vision import FaceDetector
    faces = FaceDetector(Camera())
    LED(17).source = faces.present.values    # the LED follows whether a face is in view

The whole frame is letterboxed into the model's square input (as mediapipe does, so a 4:3 frame
is not squashed), the 896 anchors are decoded into boxes and six keypoints, overlapping boxes
are merged by weighted NMS, and everything is mapped back to the caller's pixels. Short range
suits faces within about 2 m of the camera; `FaceDetector(model="full")` uses the full-range
sparse model (192×192) for a classroom-sized view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from labkit.vision import ssd
from labkit.vision.device import VisionDetector, default_store, load_model
from labkit.vision.frames import Prepared, to_bgr
from labkit.vision.roi import Roi, crop
from labkit.vision.types import Box

KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear")
MODELS = {
    "short": ("face_detection_short_range", ssd.FACE_SHORT),
    "full": ("face_detection_full_range_sparse", ssd.FACE_FULL),
}


@dataclass(frozen=True)
class Face:
    """One face: its box, the detector's confidence and six keypoints (see KEYPOINTS),
    all in the frame's pixels. 'right eye' is the person's right eye."""

    box: Box
    score: float
    keypoints: tuple[tuple[float, float], ...]

    def keypoint(self, name: str) -> tuple[float, float]:
        return self.keypoints[KEYPOINTS.index(name)]


@dataclass(frozen=True)
class FaceResult:
    faces: tuple[Face, ...]
    width: int
    height: int

    def __len__(self) -> int:
        return len(self.faces)

    @property
    def best(self) -> Face | None:
        return max(self.faces, key=lambda f: f.score) if self.faces else None


def find_outputs(model: Any, box_width: int) -> tuple[str, str]:
    """(boxes, scores) output names of an SSD model, found by their shapes."""
    boxes = next(t.name for t in model.outputs if t.shape[-1] == box_width)
    scores = next(t.name for t in model.outputs if t.shape[-1] == 1)
    return boxes, scores


MIN_SCORE = 0.55


class FaceDetector(VisionDetector[FaceResult]):
    """Finds faces. `value` is 1 while at least one face is in view; `count`, `score`
    (best face's confidence) and `present` are sub-devices for gpiozero `source`.

    min_score   detection threshold, 0–1. The default 0.55 (mediapipe uses 0.5) is measured
                (tests/unit/vision/test_face_threshold.py): on 160 non-face pictures and crops
                (a cat, coffee, flowers, a colour wheel, textures, lfw_subset's non-faces)
                0.5 finds a "face" in 6%, 0.55 in 4%, while 0.55 still finds 96% of
                lfw_subset's faces and every upright face fixture; 0.6 misses 15% of faces
    model       "short" (≤ ~2 m, default) or "full" (full-range sparse, further away). Short
                is the default on evidence: full range finds 10% of close-up lfw faces
    max_faces   keep at most this many faces (0: all)
    """

    topic = "vision.face"

    def __init__(self, camera: Any = None, *, min_score: float = MIN_SCORE, model: str = "short",
                 max_faces: int = 0, store: Any = None, **kwargs: Any) -> None:
        if model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, not {min_score}")
        name, self.spec = MODELS[model]
        self.store = store if store is not None else default_store()
        self.model = load_model(self.store, name)
        self.input_name = self.model.inputs[0].name
        self._boxes, self._scores = find_outputs(self.model, 4 + 2 * self.spec.num_keypoints)
        self.min_score = min_score
        self.max_faces = max_faces
        super().__init__(camera, **kwargs)

    def summary(self, result: FaceResult) -> tuple[int, str, float]:
        best = result.best
        return (len(result.faces), "face" if best else "", best.score if best else 0.0)

    def _detect(self, frame: Prepared) -> FaceResult:
        image = frame.image
        h, w = image.shape[:2]
        size = self.spec.input_size
        tensor, _, letterbox = crop(image, Roi.whole(w, h), size, size, keep_aspect=True,
                                    value_range=(-1.0, 1.0), border="zero", swap_rb=True)
        out = self.model.run({self.input_name: tensor})
        dets = ssd.decode(out[self._boxes][0], out[self._scores][0], self.spec, self.min_score)
        dets = ssd.weighted_nms(dets, self.spec.nms_threshold, self.max_faces)
        ow, oh = frame.size
        boxes, keypoints, scores = dets.as_lists()
        # letterbox removal and scaling to pixels in plain floats (the same operations as
        # roi.remove_letterbox and `* (ow, oh)` on arrays): a handful of numbers per face
        left, top, right, bottom = letterbox
        dx, dy = 1.0 - left - right, 1.0 - top - bottom   # both 1.0 without a letterbox

        faces = []
        for (bx0, by0, bx1, by1), kps, score in zip(boxes, keypoints, scores, strict=True):
            x0, y0 = (bx0 - left) / dx * ow, (by0 - top) / dy * oh
            x1, y1 = (bx1 - left) / dx * ow, (by1 - top) / dy * oh
            faces.append(Face(Box(x0, y0, x1 - x0, y1 - y0), score,
                              tuple([((x - left) / dx * ow, (y - top) / dy * oh)
                                     for x, y in kps])))
        return FaceResult(tuple(faces), ow, oh)

    @staticmethod
    def draw(frame: Any, result: FaceResult) -> np.ndarray:
        """A copy of the frame with boxes and keypoints (labels in ASCII; the web page draws
        translated labels itself)."""
        image = to_bgr(frame).copy()
        for face in result.faces:
            x0, y0, x1, y1 = face.box.int_xyxy()
            cv2.rectangle(image, (x0, y0), (x1, y1), (0, 220, 0), 2)
            for x, y in face.keypoints:
                cv2.circle(image, (int(round(x)), int(round(y))), 3, (0, 0, 255), -1)
            cv2.putText(image, f"face {face.score:.2f}", (x0, max(12, y0 - 6)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 220, 0), 1, cv2.LINE_AA)
        return image
