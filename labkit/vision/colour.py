"""Colour tracking the classic way: HSV thresholds, clean-up, contours, centroids.

    red = ColourTracker(Camera(), "red")
    servo.source = red.x          # the servo follows the red ball left/right (−1 … 1)

No model at all — which is the point for the cognition band: every step can be shown and
changed (the thresholds are numbers a student can edit). HSV separates *which colour* (hue)
from *how bright* (value), so a shadow does not change the answer much. Red sits at both ends
of the hue circle, so it takes two ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from labkit.vision.device import Signal, VisionDetector
from labkit.vision.frames import Prepared, to_bgr
from labkit.vision.types import Box

HsvRange = tuple[tuple[int, int, int], tuple[int, int, int]]

#: OpenCV HSV: hue 0–179, saturation and value 0–255
COLOURS: dict[str, tuple[HsvRange, ...]] = {
    "red": (((0, 120, 70), (8, 255, 255)), ((170, 120, 70), (179, 255, 255))),
    "orange": (((9, 120, 90), (20, 255, 255)),),
    "yellow": (((21, 100, 100), (34, 255, 255)),),
    "green": (((35, 80, 50), (85, 255, 255)),),
    "blue": (((90, 100, 50), (128, 255, 255)),),
    "purple": (((129, 60, 50), (160, 255, 255)),),
    "pink": (((161, 60, 120), (169, 255, 255)),),
}


@dataclass(frozen=True)
class Blob:
    """One patch of the colour: its area (pixels), centroid and box in frame pixels."""

    area: float
    cx: float
    cy: float
    box: Box


@dataclass(frozen=True)
class ColourResult:
    colour: str
    blobs: tuple[Blob, ...]          # largest first
    width: int
    height: int

    def __len__(self) -> int:
        return len(self.blobs)

    @property
    def best(self) -> Blob | None:
        return self.blobs[0] if self.blobs else None


def hsv_mask(image_bgr: np.ndarray, ranges: tuple[HsvRange, ...]) -> np.ndarray:
    """255 where the pixel's HSV is inside any of the ranges, after opening and closing
    (removes speckles and fills small holes)."""
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    mask = np.zeros(hsv.shape[:2], np.uint8)
    for lo, hi in ranges:
        mask |= cv2.inRange(hsv, np.array(lo, np.uint8), np.array(hi, np.uint8))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)


def range_from_sample(image_bgr: np.ndarray, box: tuple[int, int, int, int],
                      spread: tuple[int, int, int] = (10, 60, 60)) -> tuple[HsvRange, ...]:
    """HSV range(s) around the median colour of a region (x, y, w, h): 'teach' the tracker
    a colour by holding the object in a box."""
    x, y, w, h = (int(v) for v in box)
    region = to_bgr(image_bgr)[max(0, y):y + h, max(0, x):x + w]
    if region.size == 0:
        raise ValueError(f"the sample box {box} is outside the frame or empty")
    patch = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)
    hue, sat, val = (int(np.median(patch[:, :, i])) for i in range(3))
    s_lo, v_lo = max(0, sat - spread[1]), max(0, val - spread[2])
    s_hi, v_hi = min(255, sat + spread[1]), min(255, val + spread[2])
    lo, hi = hue - spread[0], hue + spread[0]
    if lo < 0:
        return (((0, s_lo, v_lo), (hi, s_hi, v_hi)), ((180 + lo, s_lo, v_lo), (179, s_hi, v_hi)))
    if hi > 179:
        return (((lo, s_lo, v_lo), (179, s_hi, v_hi)), ((0, s_lo, v_lo), (hi - 180, s_hi, v_hi)))
    return (((lo, s_lo, v_lo), (hi, s_hi, v_hi)),)


class ColourTracker(VisionDetector[ColourResult]):
    """Finds patches of one colour. `value` is 1 while one is in view; sub-devices `x` and `y`
    give the largest patch's centre from −1 (left/top) to 1 (right/bottom), 0 when none —
    ready for `servo.source`; `size` is its share of the frame (0–1).

    colour     a name from COLOURS, or HSV ranges ((lo, hi), ...) e.g. from range_from_sample
    min_area   smallest patch that counts, as a share of the frame
    """

    topic = "vision.colour"

    def __init__(self, camera: Any = None, colour: str | tuple[HsvRange, ...] = "red", *,
                 min_area: float = 0.002, max_blobs: int = 5, **kwargs: Any) -> None:
        self.set_colour(colour)
        self.min_area = min_area
        self.max_blobs = max_blobs
        super().__init__(camera, **kwargs)

    def set_colour(self, colour: str | tuple[HsvRange, ...]) -> None:
        if isinstance(colour, str):
            if colour not in COLOURS:
                raise ValueError(f"unknown colour {colour!r}; known: {', '.join(COLOURS)}")
            self.colour, self.ranges = colour, COLOURS[colour]
        else:
            ranges = tuple((tuple(map(int, lo)), tuple(map(int, hi))) for lo, hi in colour)
            if not ranges or any(len(lo) != 3 or len(hi) != 3 for lo, hi in ranges):
                raise ValueError("HSV ranges must be ((h, s, v), (h, s, v)) pairs")
            self.colour, self.ranges = "custom", ranges  # type: ignore[assignment]

    # -- live thresholds (the lab page's sliders) --------------------------------------------
    def thresholds(self) -> dict[str, float]:
        """The thresholds as a student moves them: `hue` the centre of the hue band (0–179,
        red wraps around 0), `hue_width` half its width, `saturation` the least saturation
        that counts, `min_area` the smallest patch as a share of the frame."""
        (lo, hi), *rest = self.ranges
        if rest and lo[0] == 0 and rest[-1][1][0] == 179:     # a band across 0 (red)
            start, end = rest[-1][0][0], hi[0] + 180
        elif rest:
            start, end = lo[0], rest[-1][1][0]
        else:
            start, end = lo[0], hi[0]
        return {"hue": float(((start + end) / 2) % 180), "hue_width": (end - start) / 2,
                "saturation": float(min(r[0][1] for r in self.ranges)),
                "min_area": float(self.min_area)}

    def tune(self, *, hue: float | None = None, saturation: float | None = None,
             min_area: float | None = None) -> dict[str, float]:
        """Move the thresholds while the tracker runs (the next frame uses them); values are
        checked, ValueError names a bad one. Returns the new thresholds."""
        now = self.thresholds()
        if hue is not None and not 0 <= hue <= 179:
            raise ValueError("hue must be from 0 to 179")
        if saturation is not None and not 0 <= saturation <= 255:
            raise ValueError("saturation must be from 0 to 255")
        if min_area is not None and not 0 <= min_area <= 1:
            raise ValueError("min_area must be from 0 to 1")
        centre = now["hue"] if hue is None else float(hue)
        width = now["hue_width"]
        s_lo = int(now["saturation"] if saturation is None else saturation)
        v_lo = int(min(r[0][2] for r in self.ranges))
        lo, hi = int(round(centre - width)), int(round(centre + width))
        if lo < 0:
            ranges = (((0, s_lo, v_lo), (hi, 255, 255)), ((180 + lo, s_lo, v_lo), (179, 255, 255)))
        elif hi > 179:
            ranges = (((0, s_lo, v_lo), (hi - 180, 255, 255)), ((lo, s_lo, v_lo), (179, 255, 255)))
        else:
            ranges = (((lo, s_lo, v_lo), (hi, 255, 255)),)
        with self._lock:
            self.ranges = ranges  # type: ignore[assignment]
            if min_area is not None:
                self.min_area = float(min_area)
        return self.thresholds()

    def mask(self, frame: Any) -> np.ndarray:
        return hsv_mask(to_bgr(frame), self.ranges)

    def _detect(self, frame: Prepared) -> ColourResult:
        image = frame.image
        h, w = image.shape[:2]
        mask = hsv_mask(image, self.ranges)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        sx, sy = frame.size[0] / w, frame.size[1] / h
        blobs = []
        for c in contours:
            m = cv2.moments(c)
            area = m["m00"]
            if area < self.min_area * w * h or area <= 0:
                continue
            x, y, bw, bh = cv2.boundingRect(c)
            blobs.append(Blob(float(area * sx * sy), float(m["m10"] / area * sx),
                              float(m["m01"] / area * sy), Box(x * sx, y * sy, bw * sx, bh * sy)))
        blobs.sort(key=lambda b: -b.area)
        return ColourResult(self.colour, tuple(blobs[:self.max_blobs]), frame.size[0],
                            frame.size[1])

    def summary(self, result: ColourResult) -> tuple[int, str, float]:
        best = result.best
        share = best.area / (result.width * result.height) if best else 0.0
        return (len(result.blobs), result.colour if best else "", min(1.0, share))

    @property
    def x(self) -> Signal:
        """Largest patch's centre, −1 (left edge) … 1 (right edge); 0 when none."""
        return self.signal("x", lambda r: (2 * r.best.cx / r.width - 1)
                           if r is not None and r.best else 0.0)

    @property
    def y(self) -> Signal:
        """Largest patch's centre, −1 (top) … 1 (bottom); 0 when none."""
        return self.signal("y", lambda r: (2 * r.best.cy / r.height - 1)
                           if r is not None and r.best else 0.0)

    @property
    def size(self) -> Signal:
        return self.score

    @staticmethod
    def draw(frame: Any, result: ColourResult) -> np.ndarray:
        image = to_bgr(frame).copy()
        for b in result.blobs:
            x0, y0, x1, y1 = b.box.int_xyxy()
            cv2.rectangle(image, (x0, y0), (x1, y1), (255, 255, 255), 2)
            cv2.drawMarker(image, (int(b.cx), int(b.cy)), (0, 0, 0), cv2.MARKER_CROSS, 14, 2)
        return image
