"""Plain result types shared by the vision tasks (pixel coordinates of the caller's frame)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned box: top-left corner `x`, `y` and size `w`, `h`, in pixels."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def from_xyxy(cls, x0: float, y0: float, x1: float, y1: float) -> "Box":
        return cls(float(x0), float(y0), float(x1 - x0), float(y1 - y0))

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.x + self.w, self.y + self.h)

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    @property
    def area(self) -> float:
        return max(self.w, 0.0) * max(self.h, 0.0)

    def iou(self, other: "Box") -> float:
        """Intersection over union with another box (0 when they do not overlap)."""
        ax0, ay0, ax1, ay1 = self.xyxy
        bx0, by0, bx1, by1 = other.xyxy
        iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
        ih = max(0.0, min(ay1, by1) - max(ay0, by0))
        inter = iw * ih
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def clipped(self, width: int, height: int) -> "Box":
        x0, y0, x1, y1 = self.xyxy
        x0, x1 = np.clip([x0, x1], 0, width)
        y0, y1 = np.clip([y0, y1], 0, height)
        return Box.from_xyxy(x0, y0, x1, y1)

    def int_xyxy(self) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = self.xyxy
        return (int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)))
