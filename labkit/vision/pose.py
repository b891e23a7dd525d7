"""Body pose: pose detection → rotated crop → 33 body landmarks with visibility, joint angles.

    pose = PoseTracker(Camera())
    servo.source = scaled(pose.angle("right_elbow"), -1, 1, 0, 180)
    reps = RepCounter(pose, "squat")          # see labkit.vision.reps

mediapipe's BlazePose pipeline with our own code: the detector (224×224, 2254 anchors) gives a
person's hip centre and a point whose distance sets the body's size and rotation; that becomes a
square crop (×1.25) fed to the landmark model (256×256, "full"). Its heatmap refines each
landmark like mediapipe's RefineLandmarksFromHeatmap. While the person stays in view, the next
crop comes from the landmarks themselves (two auxiliary points), so the detector only runs when
the person is lost. One person at a time, as in mediapipe's Pose solution.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from labkit.vision.device import Signal, VisionDetector, default_store, load_model
from labkit.vision.frames import Prepared, to_bgr
from labkit.vision.people import PoseDetectorModel
from labkit.vision.roi import Roi, crop, project, remove_letterbox, rotation_between, transform_rect
from labkit.vision.types import Box

DETECTOR_MODEL = "pose_detection"
LANDMARK_MODEL = "pose_landmark_full"
LANDMARK_SIZE = 256
NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index")
INDEX = {n: i for i, n in enumerate(NAMES)}
#: joint → (a, joint, c): the angle at the joint between joint→a and joint→c
JOINTS = {
    f"{side}_{joint}": (f"{side}_{a}", f"{side}_{joint}", f"{side}_{c}")
    for side in ("left", "right")
    for joint, a, c in (("elbow", "shoulder", "wrist"), ("shoulder", "hip", "elbow"),
                        ("hip", "shoulder", "knee"), ("knee", "hip", "ankle"))
}
CONNECTIONS = ((11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
               (23, 25), (25, 27), (24, 26), (26, 28), (27, 29), (29, 31), (28, 30), (30, 32),
               (0, 2), (0, 5), (2, 7), (5, 8), (9, 10), (15, 17), (15, 19), (16, 18), (16, 20))
MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class Pose:
    """One person. `landmarks`: 33 (x, y, z, visibility) in frame pixels (z like x, relative to
    the hips); `angles`: joint angles in degrees (None when a point is not visible)."""

    landmarks: tuple[tuple[float, float, float, float], ...]
    score: float
    box: Box
    angles: dict[str, float | None]
    roi: tuple[float, float, float, float, float]

    def point(self, name: str) -> tuple[float, float]:
        x, y, _, _ = self.landmarks[INDEX[name]]
        return (x, y)

    def visible(self, name: str, threshold: float = MIN_VISIBILITY) -> bool:
        return self.landmarks[INDEX[name]][3] >= threshold


@dataclass(frozen=True)
class PoseResult:
    poses: tuple[Pose, ...]
    width: int
    height: int
    detected: bool = False

    def __len__(self) -> int:
        return len(self.poses)

    @property
    def best(self) -> Pose | None:
        return self.poses[0] if self.poses else None


def joint_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Angle at b in degrees (180 = straight), in the image plane."""
    u, v = np.asarray(a, float) - b, np.asarray(c, float) - b
    cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def angles(points: np.ndarray, visibility: np.ndarray) -> dict[str, float | None]:
    """Every joint in JOINTS → its angle, or None when one of its points is not visible."""
    out: dict[str, float | None] = {}
    for joint, (a, b, c) in JOINTS.items():
        ia, ib, ic = INDEX[a], INDEX[b], INDEX[c]
        if min(visibility[ia], visibility[ib], visibility[ic]) < MIN_VISIBILITY:
            out[joint] = None
        else:
            out[joint] = round(joint_angle(points[ia], points[ib], points[ic]), 1)
    return out


def alignment_roi(centre: np.ndarray, scale_point: np.ndarray) -> Roi:
    """mediapipe's AlignmentPointsRects + ×1.25: a square around `centre`, twice as wide as
    the distance to `scale_point`, turned so centre → scale point points up."""
    size = 2.0 * float(np.linalg.norm(scale_point - centre))
    rect = Roi(float(centre[0]), float(centre[1]), size, size, rotation_between(centre, scale_point))
    return transform_rect(rect, scale=1.25)


@lru_cache(maxsize=4)
def _index_grid(h: int, w: int) -> np.ndarray:
    """Row and column indices of a heatmap (np.indices), made once instead of an np.mgrid
    per landmark per frame."""
    grid = np.indices((h, w))
    grid.flags.writeable = False
    return grid


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray, kernel: int = 7,
                        min_confidence: float = 0.5) -> np.ndarray:
    """mediapipe's RefineLandmarksFromHeatmap: move each landmark (normalised in the crop) to
    the confidence-weighted mean of the sigmoid heatmap in a kernel×kernel window."""
    hm_h, hm_w, channels = heatmap.shape
    out = points.copy()
    offset = (kernel - 1) // 2
    grid = _index_grid(hm_h, hm_w)
    for i in range(min(channels, len(points))):
        col, row = int(points[i, 0] * hm_w), int(points[i, 1] * hm_h)
        if col < 0 or col >= hm_w or row < 0 or row >= hm_h:
            continue
        r0, r1 = max(0, row - offset), min(hm_h, row + offset + 1)
        c0, c1 = max(0, col - offset), min(hm_w, col + offset + 1)
        conf = 1.0 / (1.0 + np.exp(-heatmap[r0:r1, c0:c1, i].astype(np.float64)))
        total = conf.sum()
        if conf.max() >= min_confidence and total > 0:
            rows, cols = grid[0, r0:r1, c0:c1], grid[1, r0:r1, c0:c1]   # = np.mgrid[r0:r1, c0:c1]
            out[i, 0] = (cols * conf).sum() / hm_w / total
            out[i, 1] = (rows * conf).sum() / hm_h / total
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class PoseTracker(VisionDetector[PoseResult]):
    """Finds one person's 33 body landmarks and joint angles.

    `value` is 1 while a person is in view. Sub-devices: `present`, `count`, `score`,
    `angle("left_knee")` (degrees, 0 when not visible), `visible("left_wrist")`.
    """

    topic = "vision.pose"

    def __init__(self, camera: Any = None, *, min_detection: float = 0.5,
                 min_presence: float = 0.5, track: bool = True, store: Any = None,
                 **kwargs: Any) -> None:
        self.store = store if store is not None else default_store()
        self.det_model = load_model(self.store, DETECTOR_MODEL)
        self.lm_model = load_model(self.store, LANDMARK_MODEL)
        self._detector = PoseDetectorModel(self.det_model)
        self._lm_in = self.lm_model.inputs[0].name
        outs = {t.name: t.shape for t in self.lm_model.outputs}
        self._lm_points = next(n for n, s in outs.items() if len(s) == 2 and s[-1] == 195)
        self._lm_flag = next(n for n, s in outs.items() if len(s) == 2 and s[-1] == 1)
        self._lm_heatmap = next(n for n, s in outs.items() if len(s) == 4 and s[-1] == 39)
        self.min_detection = min_detection
        self.min_presence = min_presence
        self.track = track
        self._tracked: Roi | None = None
        self._tracked_size: tuple[int, int] | None = None
        super().__init__(camera, **kwargs)

    def person(self, bgr: np.ndarray) -> Roi | None:
        """The pose detector on the whole frame → the best person's crop (or None)."""
        found = self._detector(bgr, self.min_detection, 1)
        if not found:
            return None
        kps = found[0][1]
        return alignment_roi(kps[0], kps[1])

    def landmarks(self, bgr: np.ndarray, roi: Roi) -> tuple[np.ndarray, float] | None:
        """39 landmarks (x, y, z pixels, visibility, presence) in the crop, and the pose score;
        None when the model says nobody is there."""
        tensor, used, letterbox = crop(bgr, roi, LANDMARK_SIZE, LANDMARK_SIZE, keep_aspect=True,
                                       value_range=(0.0, 1.0), border="replicate",
                                       swap_rb=True)
        out = self.lm_model.run({self._lm_in: tensor})
        flag = float(out[self._lm_flag].reshape(-1)[0])
        if flag < self.min_presence:
            return None
        raw = out[self._lm_points].reshape(39, 5).astype(np.float64)
        xy = refine_from_heatmap(raw[:, :2] / LANDMARK_SIZE, out[self._lm_heatmap][0])
        xy = project(remove_letterbox(xy, letterbox), used)
        z = raw[:, 2] / LANDMARK_SIZE * used.w
        return np.column_stack([xy, z, _sigmoid(raw[:, 3]), _sigmoid(raw[:, 4])]), flag

    def reset(self) -> None:
        self._tracked = None

    def _detect(self, frame: Prepared) -> PoseResult:
        bgr = frame.image
        h, w = bgr.shape[:2]
        if self._tracked_size != (w, h) or not self.track:
            self._tracked = None
            self._tracked_size = (w, h)
        roi, detected = self._tracked, False
        if roi is None:
            roi, detected = self.person(bgr), True
        found = self.landmarks(bgr, roi) if roi is not None else None
        if found is None:
            self._tracked = None
            return PoseResult((), frame.size[0], frame.size[1], detected)
        points, flag = found
        self._tracked = alignment_roi(points[33, :2], points[34, :2]) if self.track else None
        sx, sy = frame.size[0] / w, frame.size[1] / h
        pts = points[:33].copy()
        pts[:, 0] *= sx
        pts[:, 1] *= sy
        pts[:, 2] *= sx
        vis = pts[:, 3]
        shown = pts[vis >= MIN_VISIBILITY, :2] if (vis >= MIN_VISIBILITY).any() else pts[:, :2]
        lo, hi = shown.min(0), shown.max(0)
        pose = Pose(
            landmarks=tuple(tuple(p[:4]) for p in pts.tolist()),   # tolist: plain floats, fast
            score=flag, box=Box.from_xyxy(lo[0], lo[1], hi[0], hi[1]),
            angles=angles(pts[:, :2], vis),
            roi=(roi.cx * sx, roi.cy * sy, roi.w * sx, roi.h * sy, roi.rotation))
        return PoseResult((pose,), frame.size[0], frame.size[1], detected)

    # -- device surface -----------------------------------------------------------------------
    def summary(self, result: PoseResult) -> tuple[int, str, float]:
        best = result.best
        return (len(result.poses), "person" if best else "", best.score if best else 0.0)

    def angle(self, joint: str) -> Signal:
        """The joint's angle in degrees (0 when the joint is not visible), e.g. 'left_knee'."""
        if joint not in JOINTS:
            raise ValueError(f"unknown joint {joint!r}; known: {', '.join(JOINTS)}")
        return self.signal(f"angle({joint})", lambda r: (r.best.angles.get(joint) or 0.0)
                           if r is not None and r.best else 0.0)

    def visible(self, name: str) -> Signal:
        """1 while the named landmark (e.g. 'left_wrist') is visible."""
        if name not in INDEX:
            raise ValueError(f"unknown landmark {name!r}")
        return self.signal(f"visible({name})", lambda r: 1 if r is not None and r.best
                           and r.best.visible(name) else 0)

    @staticmethod
    def draw(frame: Any, result: PoseResult) -> np.ndarray:
        image = to_bgr(frame).copy()
        for pose in result.poses:
            pts = [(int(round(x)), int(round(y)), v) for x, y, _, v in pose.landmarks]
            for a, b in CONNECTIONS:
                if min(pts[a][2], pts[b][2]) >= MIN_VISIBILITY:
                    cv2.line(image, pts[a][:2], pts[b][:2], (255, 200, 0), 2, cv2.LINE_AA)
            for x, y, v in pts:
                if v >= MIN_VISIBILITY:
                    cv2.circle(image, (x, y), 3, (0, 0, 255), -1)
        return image

