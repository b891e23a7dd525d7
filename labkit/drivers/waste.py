"""Drawn pieces of rubbish for the waste-sorting lab: a `waste` scene the simulated camera shows
and the pictures a sorter learns from.

Why drawn items: a class learns to sort without photographing anyone, the pictures are made
on the spot (no data set to download), and every item can be drawn again in another place,
size, angle and shade (`variant`), so a test picture is never a copy of a training picture.
The four bins are China's: 可回收物 recyclable, 厨余垃圾 kitchen, 有害垃圾 hazardous,
其他垃圾 other. Each bin has three kinds of item; a model that is tested on an item *kind* it
never saw (held out by kind, labkit/models/evaluation.py) shows how far it really learned
"recyclable" rather than "that blue bottle".
"""

from __future__ import annotations

import math
from typing import Callable

import cv2
import numpy as np

#: bin → the item kinds drawn for it
BINS: dict[str, tuple[str, ...]] = {
    "recyclable": ("bottle", "can", "carton"),
    "kitchen": ("banana_peel", "apple_core", "leaves"),
    "hazardous": ("battery", "tube", "pills"),
    "other": ("tissue", "shard", "dust"),
}
ITEMS: dict[str, str] = {item: bin_ for bin_, items in BINS.items() for item in items}
Colour = tuple[int, int, int]


class Pen:
    """Draws in item units (1 = the item's half-height) around the canvas centre."""

    def __init__(self, img: np.ndarray, origin: int, scale: float) -> None:
        self.img, self.o, self.s = img, origin, scale

    def p(self, x: float, y: float) -> tuple[int, int]:
        return int(round(self.o + x * self.s)), int(round(self.o + y * self.s))

    def n(self, v: float) -> int:
        return max(1, int(round(v * self.s)))

    def rect(self, x0: float, y0: float, x1: float, y1: float, colour: Colour) -> None:
        cv2.rectangle(self.img, self.p(x0, y0), self.p(x1, y1), colour, -1)

    def ellipse(self, x: float, y: float, ax: float, ay: float, colour: Colour, *,
                angle: float = 0, arc: tuple[int, int] = (0, 360), width: float = 0) -> None:
        cv2.ellipse(self.img, self.p(x, y), (self.n(ax), self.n(ay)), angle, arc[0], arc[1],
                    colour, self.n(width) if width else -1, cv2.LINE_AA)

    def circle(self, x: float, y: float, r: float, colour: Colour) -> None:
        cv2.circle(self.img, self.p(x, y), self.n(r), colour, -1, cv2.LINE_AA)

    def line(self, x0: float, y0: float, x1: float, y1: float, colour: Colour,
             width: float) -> None:
        cv2.line(self.img, self.p(x0, y0), self.p(x1, y1), colour, max(2, self.n(width)),
                 cv2.LINE_AA)

    def poly(self, pts: list[tuple[float, float]], colour: Colour) -> None:
        cv2.fillPoly(self.img, [np.array([self.p(x, y) for x, y in pts], np.int32)], colour,
                     cv2.LINE_AA)


def _j(rng: np.random.Generator, base: int, spread: int = 20) -> int:
    return int(np.clip(base + rng.integers(-spread, spread + 1), 0, 255))


def _bottle(pen: Pen, rng: np.random.Generator) -> None:
    body = (_j(rng, 200), _j(rng, 170), 90)
    pen.rect(-0.35, -0.5, 0.35, 0.9, body)
    pen.poly([(-0.35, -0.5), (-0.12, -0.8), (0.12, -0.8), (0.35, -0.5)], body)
    pen.rect(-0.13, -1.0, 0.13, -0.8, (40, 120, 240))
    pen.rect(-0.35, 0.05, 0.35, 0.35, (240, 240, 240))


def _can(pen: Pen, rng: np.random.Generator) -> None:
    g = _j(rng, 185, 15)
    pen.rect(-0.4, -0.7, 0.4, 0.7, (g, g, g))
    pen.rect(-0.4, -0.25, 0.4, 0.25, (30, 30, 200))
    for y in (-0.7, 0.7):
        pen.ellipse(0, y, 0.4, 0.1, (g - 40, g - 40, g - 40))


def _carton(pen: Pen, rng: np.random.Generator) -> None:
    pen.rect(-0.8, -0.6, 0.8, 0.6, (60, _j(rng, 110, 15), _j(rng, 170, 15)))
    pen.line(-0.8, 0, 0.8, 0, (40, 80, 120), 0.06)
    pen.rect(-0.15, -0.6, 0.15, 0.6, (150, 190, 210))


def _banana_peel(pen: Pen, rng: np.random.Generator) -> None:
    pen.ellipse(0, 0.4, 0.9, 0.7, (40, _j(rng, 200), 235), arc=(200, 340), width=0.28)
    for angle in (200, 340):
        a = math.radians(angle)
        pen.circle(0.9 * math.cos(a), 0.4 + 0.7 * math.sin(a), 0.12, (30, 60, 90))


def _apple_core(pen: Pen, rng: np.random.Generator) -> None:
    red = (40, 40, _j(rng, 190))
    pen.ellipse(0, -0.55, 0.5, 0.3, red)
    pen.ellipse(0, 0.55, 0.5, 0.3, red)
    pen.rect(-0.22, -0.5, 0.22, 0.5, (170, 220, 240))
    pen.line(0, -0.85, 0.1, -1.1, (30, 60, 90), 0.07)


def _leaves(pen: Pen, rng: np.random.Generator) -> None:
    green = (50, _j(rng, 160, 25), 60)
    for angle in (-40, 0, 40):
        x = 0.3 * math.sin(math.radians(angle))
        pen.ellipse(x, 0, 0.25, 0.8, green, angle=angle)
        pen.ellipse(x, 0, 0.25, 0.8, (30, 100, 40), angle=angle, width=0.03)


def _battery(pen: Pen, rng: np.random.Generator) -> None:
    pen.rect(-0.3, -0.8, 0.3, 0.8, (30, 30, 30))
    pen.rect(-0.3, -0.8, 0.3, -0.3, (40, 140, _j(rng, 200)))
    pen.rect(-0.12, -0.95, 0.12, -0.8, (150, 150, 150))
    pen.line(-0.12, 0.3, 0.12, 0.3, (255, 255, 255), 0.06)
    pen.line(0, 0.18, 0, 0.42, (255, 255, 255), 0.06)


def _tube(pen: Pen, rng: np.random.Generator) -> None:
    white = _j(rng, 235, 10)
    pen.rect(-1.2, -0.14, 1.2, 0.14, (white - 10, white, white))
    for x in (-1.2, 1.05):
        pen.rect(x, -0.17, x + 0.15, 0.17, (120, 120, 120))


def _pills(pen: Pen, rng: np.random.Generator) -> None:
    pen.rect(-0.8, -0.5, 0.8, 0.5, (200, 200, 205))
    pill = (_j(rng, 60), 60, 220)
    for ix in range(4):
        for iy in range(2):
            pen.ellipse(-0.6 + 0.4 * ix, -0.22 + 0.44 * iy, 0.13, 0.09, pill)


def _tissue(pen: Pen, rng: np.random.Generator) -> None:
    n = 11
    angles = np.linspace(0, 2 * math.pi, n, endpoint=False)
    radii = 0.55 + 0.3 * rng.random(n)
    pen.poly([(r * math.cos(a), r * math.sin(a)) for r, a in zip(radii, angles, strict=True)],
             (245, 245, 245))
    for _ in range(4):
        a, b = rng.uniform(-0.4, 0.4, 2), rng.uniform(-0.4, 0.4, 2)
        pen.line(a[0], a[1], b[0], b[1], (200, 200, 205), 0.02)


def _shard(pen: Pen, rng: np.random.Generator) -> None:
    pen.poly([(-0.9, -0.2), (-0.2, -0.7), (0.8, -0.4), (0.3, 0.1), (0.6, 0.6), (-0.5, 0.4)],
             (_j(rng, 210, 15), 230, 235))
    pen.line(-0.9, -0.2, -0.2, -0.7, (170, 80, 30), 0.08)
    pen.line(-0.2, -0.7, 0.8, -0.4, (170, 80, 30), 0.08)


def _dust(pen: Pen, rng: np.random.Generator) -> None:
    for _ in range(40):
        x, y = rng.normal(0, 0.45, 2)
        g = int(rng.integers(70, 130))
        pen.circle(float(x), float(y), float(rng.uniform(0.03, 0.09)), (g, g, g + 10))


DRAW: dict[str, Callable[[Pen, np.random.Generator], None]] = {
    "bottle": _bottle, "can": _can, "carton": _carton, "banana_peel": _banana_peel,
    "apple_core": _apple_core, "leaves": _leaves, "battery": _battery, "tube": _tube,
    "pills": _pills, "tissue": _tissue, "shard": _shard, "dust": _dust,
}


def draw_item(img: np.ndarray, item: str, *, x: float = 0.5, y: float = 0.55,
              size: float = 0.2, variant: int = 0) -> None:
    """Paint one `item` (see ITEMS) onto the BGR image, centred at (x, y) in 0–1 units, its
    half-height `size` of the frame's height. `variant` > 0 moves, turns, scales and shades it
    a little, the same way every time for the same number."""
    if item not in DRAW:
        raise ValueError(f"unknown item {item!r}; the items are: {', '.join(DRAW)}")
    h, w = img.shape[:2]
    rng = np.random.default_rng(variant * 7919 + sorted(DRAW).index(item))
    jitter = variant > 0
    s = h * size * (rng.uniform(0.8, 1.2) if jitter else 1.0)
    cx = w * (x + (rng.uniform(-0.12, 0.12) if jitter else 0.0))
    cy = h * (y + (rng.uniform(-0.08, 0.08) if jitter else 0.0))
    angle = float(rng.uniform(-35, 35)) if jitter else 0.0
    side = int(math.ceil(s * 1.6)) + 2
    canvas = np.zeros((2 * side, 2 * side, 3), np.uint8)
    DRAW[item](Pen(canvas, side, s), rng)
    drawn = (canvas.any(axis=2) * 255).astype(np.uint8)
    if angle:
        rot = cv2.getRotationMatrix2D((float(side), float(side)), angle, 1.0)
        canvas = cv2.warpAffine(canvas, rot, (2 * side, 2 * side))
        drawn = cv2.warpAffine(drawn, rot, (2 * side, 2 * side))
    x0, y0 = int(cx) - side, int(cy) - side
    ix0, iy0 = max(0, x0), max(0, y0)
    ix1, iy1 = min(w, x0 + 2 * side), min(h, y0 + 2 * side)
    if ix1 <= ix0 or iy1 <= iy0:
        return
    part = img[iy0:iy1, ix0:ix1]
    src = canvas[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0].astype(np.float32)
    alpha = drawn[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0, None].astype(np.float32) / 255.0
    part[:] = np.clip(src * alpha + part * (1 - alpha), 0, 255).astype(np.uint8)
