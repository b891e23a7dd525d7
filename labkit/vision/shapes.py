"""Finding shapes the classic way, and showing every step: "how computers see".

    shapes = ShapeFinder(Camera())
    led.source = shapes.label_is("triangle").values
    stages = shapes.pipeline(frame)     # {"gray", "blur", "edges", "contours"} pictures

The pipeline is the lesson (cognition band): colour → grey (one number per pixel), blur (so
noise does not become edges), Canny edges (where brightness jumps), contours (edges joined into
outlines), and then counting corners of the simplified outline: 3 = triangle, 4 = square or
rectangle, many and round = circle. `pipeline()` returns each stage as a picture for the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from labkit.vision.colour import COLOURS
from labkit.vision.device import VisionDetector
from labkit.vision.frames import Prepared, prepare, to_bgr
from labkit.vision.types import Box

SHAPES = ("triangle", "square", "rectangle", "pentagon", "hexagon", "circle")
STAGES = ("gray", "blur", "edges", "contours")


@dataclass(frozen=True)
class Shape:
    label: str               # one of SHAPES, or "" for an outline that is none of them
    corners: int             # corners of the simplified outline
    colour: str              # a COLOURS name, or white / grey / black
    area: float
    cx: float
    cy: float
    box: Box
    outline: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class ShapeResult:
    shapes: tuple[Shape, ...]     # largest first
    width: int
    height: int

    def __len__(self) -> int:
        return len(self.shapes)

    def count(self, label: str) -> int:
        return sum(1 for s in self.shapes if s.label == label)


def classify_outline(contour: np.ndarray) -> tuple[str, np.ndarray]:
    """Name an outline by its corners and roundness; also return the simplified polygon."""
    perimeter = cv2.arcLength(contour, True)
    area = cv2.contourArea(contour)
    poly = cv2.approxPolyDP(contour, 0.035 * perimeter, True)
    corners = len(poly)
    circularity = 4 * math.pi * area / (perimeter * perimeter) if perimeter else 0.0
    if corners == 3:
        return "triangle", poly
    if corners == 4:
        (_, _), (w, h), _ = cv2.minAreaRect(contour)
        ratio = max(w, h) / max(1e-6, min(w, h))
        return ("square" if ratio < 1.15 else "rectangle"), poly
    if corners >= 7 and circularity > 0.8 or circularity > 0.86:
        return "circle", poly
    if corners == 5:
        return "pentagon", poly
    if corners == 6:
        return "hexagon", poly
    return "", poly


def colour_name(bgr: np.ndarray) -> str:
    """The COLOURS name of a mean BGR colour, or white / grey / black when it is not vivid."""
    hsv = cv2.cvtColor(np.uint8([[bgr]]), cv2.COLOR_BGR2HSV)[0, 0]
    h, s, v = (int(x) for x in hsv)
    if v < 50:
        return "black"
    if s < 60:
        return "white" if v > 180 else "grey"
    for name, ranges in COLOURS.items():
        for lo, hi in ranges:
            if lo[0] <= h <= hi[0]:
                return name
    return "grey"


class ShapeFinder(VisionDetector[ShapeResult]):
    """Finds outlines and names them (SHAPES). `value` is 1 while any named shape is seen;
    `label` is the largest one's name, `label_is("circle")` a sub-device."""

    topic = "vision.shapes"

    def __init__(self, camera: Any = None, *, min_area: float = 0.003, blur: int = 5,
                 canny: tuple[int, int] = (50, 150), max_shapes: int = 10, **kwargs: Any) -> None:
        self.min_area = min_area
        self.blur = max(1, int(blur) | 1)
        self.canny = canny
        self.max_shapes = max_shapes
        super().__init__(camera, **kwargs)

    def stages(self, image: np.ndarray) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        blurred = cv2.GaussianBlur(gray, (self.blur, self.blur), 0)
        edges = cv2.Canny(blurred, *self.canny)
        closed = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        return {"gray": gray, "blur": blurred, "edges": edges}, list(contours)

    def _detect(self, frame: Prepared) -> ShapeResult:
        image = frame.image
        h, w = image.shape[:2]
        _, contours = self.stages(image)
        sx, sy = frame.size[0] / w, frame.size[1] / h
        found = []
        for c in contours:
            area = cv2.contourArea(c)
            if area < self.min_area * w * h:
                continue
            label, poly = classify_outline(c)
            mask = np.zeros((h, w), np.uint8)
            cv2.drawContours(mask, [c], -1, 255, -1)
            mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
            mean = cv2.mean(image, mask=mask if mask.any() else None)[:3]
            m = cv2.moments(c)
            x, y, bw, bh = cv2.boundingRect(c)
            found.append(Shape(label, len(poly), colour_name(np.array(mean)), float(area * sx * sy),
                               float(m["m10"] / m["m00"] * sx) if m["m00"] else x * sx,
                               float(m["m01"] / m["m00"] * sy) if m["m00"] else y * sy,
                               Box(x * sx, y * sy, bw * sx, bh * sy),
                               tuple((float(p[0][0] * sx), float(p[0][1] * sy)) for p in poly)))
        found.sort(key=lambda s: -s.area)
        return ShapeResult(tuple(found[:self.max_shapes]), frame.size[0], frame.size[1])

    def summary(self, result: ShapeResult) -> tuple[int, str, float]:
        named = [s for s in result.shapes if s.label]
        best = named[0] if named else None
        share = best.area / (result.width * result.height) if best else 0.0
        return (len(named), best.label if best else "", min(1.0, share))

    def pipeline(self, frame: Any) -> dict[str, np.ndarray]:
        """Every stage as a BGR picture: gray, blur, edges, and the outlines found, labelled."""
        prepared = prepare(frame)
        images, _ = self.stages(prepared.image)
        out = {k: cv2.cvtColor(v, cv2.COLOR_GRAY2BGR) for k, v in images.items()}
        result = self._detect(Prepared(prepared.image, 1.0, prepared.image.shape[1::-1]))
        out["contours"] = self.draw(prepared.image, result)
        return out

    @staticmethod
    def draw(frame: Any, result: ShapeResult) -> np.ndarray:
        image = to_bgr(frame).copy()
        for s in result.shapes:
            pts = np.array(s.outline, np.float64).round().astype(np.int32)
            cv2.polylines(image, [pts], True, (0, 255, 0) if s.label else (0, 140, 255), 2,
                          cv2.LINE_AA)
            cv2.putText(image, s.label or "?", (int(s.cx) - 20, int(s.cy)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        return image
