"""Hands: palm detection → rotated crop → 21 hand landmarks, tracked from frame to frame.

    hands = HandTracker(Camera())
    led.source = hands.label_is("fist").values       # LED on while a fist is shown
    print(hands.fingers.value)                        # 0–5 fingers up

The pipeline is mediapipe's (our code, its models): the palm detector (192×192, 2016 anchors,
7 keypoints) finds palms on the letterboxed frame; each palm becomes a rotated square crop
(turned so the wrist → middle-finger knuckle points up, then grown 2.6× and shifted towards the
fingers, as mediapipe's palm→hand-rect graph does); the landmark model (224×224) gives 21
points, a presence score and left/right. While a hand stays in view its next crop comes from
its own landmarks, so the (slower) palm detector only runs when a hand is missing — the
reference pipeline's tracking, and why hands run fast enough on a Pi.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from labkit.vision import gestures, ssd
from labkit.vision.device import Signal, VisionDetector, default_store, load_model
from labkit.vision.faces import find_outputs
from labkit.vision.frames import Prepared, to_bgr
from labkit.vision.roi import (Roi, crop, normalize_radians, project, remove_letterbox,
                               rotation_between, transform_rect)
from labkit.vision.types import Box

PALM_MODEL = "palm_detection_lite"
LANDMARK_MODEL = "hand_landmark_lite"
LANDMARK_SIZE = 224
# landmarks that define the next frame's crop (palm and finger bases; mediapipe's subset)
ROI_LANDMARKS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
CONNECTIONS = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10),
               (10, 11), (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17),
               (17, 18), (18, 19), (19, 20))


@dataclass(frozen=True)
class Hand:
    """One hand. `landmarks`: 21 (x, y, z) in frame pixels (z: depth relative to the wrist,
    in about the same units as x). `handedness` is "Left"/"Right" as mediapipe reports it
    (for a mirrored selfie view). `gesture` is one of gestures.GESTURES or ""."""

    landmarks: tuple[tuple[float, float, float], ...]
    score: float
    handedness: str
    handedness_score: float
    box: Box
    gesture: str
    fingers: int
    rps: str
    roi: tuple[float, float, float, float, float]   # cx, cy, w, h, rotation (radians)


@dataclass(frozen=True)
class HandResult:
    hands: tuple[Hand, ...]
    width: int
    height: int
    detected: bool = False   # the palm detector ran on this frame (False: tracking only)

    def __len__(self) -> int:
        return len(self.hands)

    @property
    def best(self) -> Hand | None:
        return max(self.hands, key=lambda h: h.score) if self.hands else None


def palm_roi(box: np.ndarray, keypoints: np.ndarray, width: int, height: int) -> Roi:
    """A palm detection (normalised) → the hand crop: rotated so wrist (kp 0) → middle finger
    knuckle (kp 2) points up, squared, ×2.6, shifted half a palm towards the fingers."""
    x0, y0, x1, y1 = box
    rect = Roi((x0 + x1) / 2 * width, (y0 + y1) / 2 * height, (x1 - x0) * width,
               (y1 - y0) * height,
               rotation_between(keypoints[0] * (width, height), keypoints[2] * (width, height)))
    return transform_rect(rect, scale=2.6, shift_y=-0.5)


def landmarks_roi(points: np.ndarray) -> Roi:
    """Landmarks (pixels) → the next frame's crop (mediapipe's HandLandmarksToRect + ×2,
    shift −0.1): the box around palm and finger bases in the hand's own rotated frame."""
    sub = points[list(ROI_LANDMARKS), :2]
    wrist = sub[0]
    knuckles = ((sub[4] + sub[8]) / 2 + sub[6]) / 2        # index, ring and middle MCP
    rotation = rotation_between(wrist, knuckles)
    lo, hi = sub.min(0), sub.max(0)
    centre = (lo + hi) / 2
    back = normalize_radians(-rotation)
    c, s = math.cos(back), math.sin(back)
    rel = sub - centre
    rx = rel[:, 0] * c - rel[:, 1] * s
    ry = rel[:, 0] * s + rel[:, 1] * c
    pcx, pcy = (rx.max() + rx.min()) / 2, (ry.max() + ry.min()) / 2
    c, s = math.cos(rotation), math.sin(rotation)
    rect = Roi(pcx * c - pcy * s + centre[0], pcx * s + pcy * c + centre[1],
               float(rx.max() - rx.min()), float(ry.max() - ry.min()), rotation)
    return transform_rect(rect, scale=2.0, shift_y=-0.1)


def associate(*groups: list[Roi], threshold: float = 0.5) -> list[Roi]:
    """mediapipe's AssociationNormRectCalculator: add crops group by group, each one
    replacing any crop already kept that overlaps it (IoU of the unrotated rects ≥ 0.5).
    Palm crops go first and tracked crops after, so a tracked hand wins over a new palm."""
    kept: list[Roi] = []
    for group in groups:
        for roi in group:
            box = np.array([roi.cx - roi.w / 2, roi.cy - roi.h / 2,
                            roi.cx + roi.w / 2, roi.cy + roi.h / 2])
            kept = [k for k in kept if ssd.iou(box, np.array([[
                k.cx - k.w / 2, k.cy - k.h / 2, k.cx + k.w / 2, k.cy + k.h / 2]]))[0] < threshold]
            kept.append(roi)
    return kept


class HandTracker(VisionDetector[HandResult]):
    """Finds up to `max_hands` hands and their 21 landmarks, with gestures.

    `value` is 1 while a hand is in view. Sub-devices: `present`, `count`, `label` (the best
    hand's gesture), `score`, `label_is("fist")`, `fingers` (0–5 on the best hand),
    `gesture_is(name)` (same as label_is) and `rps` (rock / paper / scissors label).

    track          follow hands with their own landmarks (video); False: detect every frame
    redetect_every while fewer than max_hands are tracked, look for new palms on every n-th
    frame (1 = every frame, like mediapipe)
    """

    topic = "vision.hands"

    def __init__(self, camera: Any = None, *, max_hands: int = 2, min_detection: float = 0.5,
                 min_presence: float = 0.5, track: bool = True, redetect_every: int = 1,
                 store: Any = None, **kwargs: Any) -> None:
        if max_hands < 1:
            raise ValueError("max_hands must be at least 1")
        self.store = store if store is not None else default_store()
        self.palm_model = load_model(self.store, PALM_MODEL)
        self.landmark_model = load_model(self.store, LANDMARK_MODEL)
        self._palm_in = self.palm_model.inputs[0].name
        self._palm_boxes, self._palm_scores = find_outputs(self.palm_model, 18)
        self._lm_in = self.landmark_model.inputs[0].name
        outs = {t.name: t.shape for t in self.landmark_model.outputs}
        self._lm_points = [n for n, s in outs.items() if s[-1] == 63][0]   # image landmarks first
        self._lm_presence, self._lm_hand = [n for n, s in outs.items() if s[-1] == 1][:2]
        self.max_hands = max_hands
        self.min_detection = min_detection
        self.min_presence = min_presence
        self.track = track
        self.redetect_every = max(1, int(redetect_every))
        self._tracked: list[Roi] = []
        self._tracked_size: tuple[int, int] | None = None
        self._since_detect = 0
        super().__init__(camera, **kwargs)

    # -- pipeline ---------------------------------------------------------------------------
    def palms(self, bgr: np.ndarray) -> list[Roi]:
        """Palm detections on the whole frame → hand crops, best first (at most max_hands)."""
        h, w = bgr.shape[:2]
        tensor, _, letterbox = crop(bgr, Roi.whole(w, h), 192, 192, keep_aspect=True,
                                    value_range=(0.0, 1.0), border="zero", swap_rb=True)
        out = self.palm_model.run({self._palm_in: tensor})
        dets = ssd.decode(out[self._palm_boxes][0], out[self._palm_scores][0], ssd.PALM,
                          self.min_detection)
        dets = ssd.weighted_nms(dets, ssd.PALM.nms_threshold, self.max_hands)
        rois = []
        for box, kps in zip(dets.boxes, dets.keypoints, strict=True):
            box = remove_letterbox(box.reshape(2, 2), letterbox).reshape(-1)
            rois.append(palm_roi(box, remove_letterbox(kps, letterbox), w, h))
        return rois

    def landmarks(self, bgr: np.ndarray, roi: Roi) -> tuple[np.ndarray, float, float] | None:
        """21 landmarks (pixels, with z) in the crop `roi`, its presence and "Left" score;
        None when the model says no hand is there."""
        tensor, used, letterbox = crop(bgr, roi, LANDMARK_SIZE, LANDMARK_SIZE, keep_aspect=True,
                                       value_range=(0.0, 1.0), border="replicate", swap_rb=True)
        out = self.landmark_model.run({self._lm_in: tensor})
        presence = float(out[self._lm_presence].reshape(-1)[0])
        if presence < self.min_presence:
            return None
        raw = out[self._lm_points].reshape(21, 3).astype(np.float64) / LANDMARK_SIZE
        xy = project(remove_letterbox(raw[:, :2], letterbox), used)
        z = raw[:, 2] / 0.4 * used.w        # mediapipe's normalize_z 0.4, scaled like x
        left = float(out[self._lm_hand].reshape(-1)[0])
        return np.column_stack([xy, z]), presence, left

    def reset(self) -> None:
        """Forget tracked hands (the next frame runs the palm detector)."""
        self._tracked = []

    def _detect(self, frame: Prepared) -> HandResult:
        bgr = frame.image
        h, w = bgr.shape[:2]
        if self._tracked_size != (w, h) or not self.track:
            self._tracked = []
            self._tracked_size = (w, h)
        rois = list(self._tracked)
        detected = False
        self._since_detect += 1
        if len(rois) < self.max_hands and (not rois or self._since_detect >= self.redetect_every):
            detected = True
            self._since_detect = 0
            rois = associate(self.palms(bgr), rois)
        sx, sy = frame.size[0] / w, frame.size[1] / h
        hands: list[Hand] = []
        next_rois: list[Roi] = []
        for roi in rois:
            found = self.landmarks(bgr, roi)
            if found is None:
                continue
            points, presence, left = found
            next_rois.append(landmarks_roi(points))
            hands.append(self._hand(points, presence, left, roi, (sx, sy)))
            if len(hands) >= self.max_hands:
                break
        self._tracked = next_rois if self.track else []
        return HandResult(tuple(hands), frame.size[0], frame.size[1], detected)

    @staticmethod
    def _hand(points: np.ndarray, presence: float, left: float, roi: Roi,
              scale: tuple[float, float]) -> Hand:
        pts = points.copy()
        pts[:, 0] *= scale[0]
        pts[:, 1] *= scale[1]
        pts[:, 2] *= scale[0]
        lo, hi = pts[:, :2].min(0), pts[:, :2].max(0)
        # mediapipe's label map: the model's score is for "Left" (as seen in a mirrored,
        # selfie-style picture)
        label = "Left" if left > 0.5 else "Right"
        xy = pts[:, :2]
        state = gestures.finger_state(xy)   # once, for the gesture, the count and RPS
        return Hand(
            landmarks=tuple(map(tuple, pts.tolist())),   # tolist: plain floats, fast
            score=presence, handedness=label, handedness_score=max(left, 1.0 - left),
            box=Box.from_xyxy(lo[0], lo[1], hi[0], hi[1]),
            gesture=gestures.classify(xy, state), fingers=state.count,
            rps=gestures.rock_paper_scissors(xy, state),
            roi=(roi.cx * scale[0], roi.cy * scale[1], roi.w * scale[0], roi.h * scale[1],
                 roi.rotation))

    # -- device surface -----------------------------------------------------------------------
    def summary(self, result: HandResult) -> tuple[int, str, float]:
        best = result.best
        return (len(result.hands), best.gesture if best else "", best.score if best else 0.0)

    @property
    def fingers(self) -> Signal:
        """Fingers held up on the best hand, 0–5 (0 also when no hand is in view)."""
        return self.signal("fingers", lambda r: r.best.fingers if r is not None and r.best else 0)

    @property
    def rps(self) -> Signal:
        """'rock', 'paper', 'scissors' or '' for the best hand."""
        return self.signal("rps", lambda r: r.best.rps if r is not None and r.best else "")

    def gesture_is(self, name: str) -> Signal:
        """1 while the best hand shows gesture `name` (see gestures.GESTURES)."""
        if name not in gestures.GESTURES:
            raise ValueError(f"unknown gesture {name!r}; known: {', '.join(gestures.GESTURES)}")
        return self.label_is(name)

    @staticmethod
    def draw(frame: Any, result: HandResult) -> np.ndarray:
        """A copy of the frame with each hand's skeleton and its gesture (ASCII)."""
        image = to_bgr(frame).copy()
        for hand in result.hands:
            pts = [(int(round(x)), int(round(y))) for x, y, _ in hand.landmarks]
            for a, b in CONNECTIONS:
                cv2.line(image, pts[a], pts[b], (0, 200, 255), 2, cv2.LINE_AA)
            for p in pts:
                cv2.circle(image, p, 3, (0, 0, 255), -1)
            x0, y0, _, _ = hand.box.int_xyxy()
            cv2.putText(image, f"{hand.handedness} {hand.gesture} {hand.fingers}",
                        (x0, max(12, y0 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 200, 255), 1,
                        cv2.LINE_AA)
        return image
