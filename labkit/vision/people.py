"""People in view: mediapipe's pose *detector* on the whole frame, every person it finds.

    people = PeopleDetector(Camera())
    print(people.count.value)                  # how many people are in view
    door = DoorCounter(people, line=0.5)       # labkit.vision.linecount: who walks through

`PoseTracker` follows one person's 33 landmarks; a doorway has several people passing, and a
counter needs only where each one is. So this runs the same 224×224 detector (BlazePose's
first stage, 2254 anchors) with no cap on the number of detections and keeps, per person, the
hip centre and the body's size the detector predicts (its first two keypoints: the centre and
a point whose distance from it is half the body's height) — no landmark model, about 10 ms a
frame on a laptop. The detector looks for a head above a body, so it suits a door seen from
the front or the side at a few metres, not straight down from the ceiling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from labkit.vision import ssd
from labkit.vision.device import VisionDetector, default_store, load_model
from labkit.vision.faces import find_outputs
from labkit.vision.frames import Prepared, to_bgr
from labkit.vision.roi import Roi, crop, remove_letterbox
from labkit.vision.types import Box

MODEL = "pose_detection"
INPUT_SIZE = 224


@dataclass(frozen=True)
class Person:
    """One person found: the hip centre `centre` and a body `box` (from the detector's size
    point), in the frame's pixels, and the detector's confidence."""

    centre: tuple[float, float]
    box: Box
    score: float


@dataclass(frozen=True)
class PeopleResult:
    people: tuple[Person, ...]
    width: int
    height: int

    def __len__(self) -> int:
        return len(self.people)

    @property
    def best(self) -> Person | None:
        return max(self.people, key=lambda p: p.score) if self.people else None


class PoseDetectorModel:
    """The pose detector model and the names of its tensors, run on a whole BGR frame."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.input = model.inputs[0].name
        self.boxes, self.scores = find_outputs(model, 12)

    def __call__(self, bgr: np.ndarray, min_score: float, max_people: int = 0
                 ) -> list[tuple[float, np.ndarray]]:
        """(score, keypoints) per person, best first; keypoints (4, 2) in frame pixels:
        hip centre, size/rotation point, and the two points mediapipe uses for the face."""
        h, w = bgr.shape[:2]
        tensor, _, letterbox = crop(bgr, Roi.whole(w, h), INPUT_SIZE, INPUT_SIZE,
                                    keep_aspect=True, value_range=(-1.0, 1.0), border="zero",
                                    swap_rb=True)
        out = self.model.run({self.input: tensor})
        dets = ssd.decode(out[self.boxes][0], out[self.scores][0], ssd.POSE, min_score)
        dets = ssd.weighted_nms(dets, ssd.POSE.nms_threshold, max_people)
        if not len(dets):
            return []
        return [(float(score), remove_letterbox(kps, letterbox) * (w, h))
                for score, kps in zip(dets.scores.tolist(), dets.keypoints, strict=True)]


def person_from_keypoints(keypoints: np.ndarray, score: float, width: int, height: int
                          ) -> Person:
    """A Person from the detector's keypoints: the box is centred on the hips, as tall as
    twice the centre → size-point distance and half as wide (a standing body)."""
    cx, cy = float(keypoints[0][0]), float(keypoints[0][1])
    half = math.dist(keypoints[0], keypoints[1])
    box = Box.from_xyxy(cx - half / 2, cy - half, cx + half / 2, cy + half).clipped(width, height)
    return Person((cx, cy), box, score)


class PeopleDetector(VisionDetector[PeopleResult]):
    """Finds every person in view (position and size, no landmarks).

    `value` is 1 while someone is in view; `count` how many; `label` is "person" while one is.
    min_detection   the detector's score needed to count a person (0–1)
    max_people      stop after this many (0: no limit)
    """

    topic = "vision.people"

    def __init__(self, camera: Any = None, *, min_detection: float = 0.5, max_people: int = 0,
                 store: Any = None, **kwargs: Any) -> None:
        if not 0.0 < float(min_detection) < 1.0:
            raise ValueError("min_detection must be between 0 and 1")
        if int(max_people) < 0:
            raise ValueError("max_people must be 0 (no limit) or more")
        self.store = store if store is not None else default_store()
        self.detector = PoseDetectorModel(load_model(self.store, MODEL))
        self.min_detection = float(min_detection)
        self.max_people = int(max_people)
        super().__init__(camera, **kwargs)

    def _detect(self, frame: Prepared) -> PeopleResult:
        bgr = frame.image
        h, w = bgr.shape[:2]
        fw, fh = frame.size
        found = self.detector(bgr, self.min_detection, self.max_people)
        scale = np.array([fw / w, fh / h])
        people = tuple(person_from_keypoints(kps * scale, score, fw, fh) for score, kps in found)
        return PeopleResult(people, fw, fh)

    def summary(self, result: PeopleResult) -> tuple[int, str, float]:
        best = result.best
        return (len(result.people), "person" if best else "", best.score if best else 0.0)

    @staticmethod
    def draw(frame: Any, result: PeopleResult) -> np.ndarray:
        image = to_bgr(frame).copy()
        for person in result.people:
            x0, y0, x1, y1 = person.box.int_xyxy()
            cv2.rectangle(image, (x0, y0), (x1, y1), (0, 200, 40), 2)
            cx, cy = (int(round(v)) for v in person.centre)
            cv2.circle(image, (cx, cy), 4, (0, 0, 255), -1)
        return image
