"""Pictures to stand in front of: the magic mirror's ready-made backgrounds, drawn in code.

Drawn rather than shipped as image files so a lab pack stays small and every kit draws the
same picture at the camera's own size. Each is a plain BGR uint8 array; the segmentation
model's person mask then puts the child in front of it (`Segmenter.replace_background`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

PICTURES = ("sea", "space", "forest", "rainbow")


def _gradient(h: int, w: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return np.repeat(img, w, axis=1).astype(np.uint8)


def _sea(h: int, w: int) -> np.ndarray:
    img = _gradient(h, w, (235, 200, 120), (250, 235, 200))          # sky, light blue
    horizon = int(h * 0.55)
    img[horizon:] = _gradient(h - horizon, w, (170, 110, 20), (120, 60, 10))
    cv2.circle(img, (int(w * 0.8), int(h * 0.2)), max(4, h // 10), (60, 210, 255), -1)  # sun
    for k in range(6):
        y = horizon + (k + 1) * (h - horizon) // 7
        for x in range(0, w, max(8, w // 12)):
            cv2.ellipse(img, (x, y), (max(3, w // 28), max(2, h // 90)), 0, 180, 360,
                        (230, 200, 160), max(1, h // 240))
    return img


def _space(h: int, w: int) -> np.ndarray:
    img = _gradient(h, w, (40, 10, 20), (90, 30, 50))
    rng = np.random.default_rng(7)                                    # the same sky every time
    for x, y in zip(rng.integers(0, w, 160), rng.integers(0, h, 160), strict=True):
        cv2.circle(img, (int(x), int(y)), 1, (255, 255, 255), -1)
    cv2.circle(img, (int(w * 0.25), int(h * 0.3)), max(6, h // 8), (80, 140, 230), -1)  # planet
    cv2.ellipse(img, (int(w * 0.25), int(h * 0.3)), (max(8, h // 5), max(2, h // 30)), -15,
                0, 360, (200, 220, 240), max(1, h // 160))
    return img


def _forest(h: int, w: int) -> np.ndarray:
    img = _gradient(h, w, (230, 215, 170), (200, 230, 210))
    ground = int(h * 0.8)
    img[ground:] = (40, 120, 60)
    n = 7
    for i in range(n):
        cx = int((i + 0.5) * w / n)
        top = int(h * (0.25 + 0.1 * (i % 2)))
        cv2.rectangle(img, (cx - w // 80, int(h * 0.6)), (cx + w // 80, ground), (30, 60, 100), -1)
        tri = np.array([[cx, top], [cx - w // 14, int(h * 0.65)], [cx + w // 14, int(h * 0.65)]],
                       np.int32)
        cv2.fillPoly(img, [tri], (40 + 10 * (i % 3), 140, 50))
    return img


def _rainbow(h: int, w: int) -> np.ndarray:
    img = _gradient(h, w, (250, 225, 180), (255, 245, 230))
    colours = [(60, 60, 230), (40, 150, 250), (40, 230, 250), (60, 200, 60), (220, 140, 40),
               (160, 60, 100), (200, 80, 160)]
    centre = (w // 2, int(h * 1.05))
    outer = int(min(w, 2 * h) * 0.55)
    band = max(2, outer // 14)
    for i, colour in enumerate(colours):
        cv2.ellipse(img, centre, (outer - i * band, outer - i * band), 0, 180, 360, colour, band)
    for k in range(3):
        cx, cy = int(w * (0.15 + 0.35 * k)), int(h * (0.15 + 0.05 * math.sin(k)))
        for dx in (-1, 0, 1):
            cv2.circle(img, (cx + dx * w // 30, cy), max(4, h // 22), (255, 255, 255), -1)
    return img


_DRAW = {"sea": _sea, "space": _space, "forest": _forest, "rainbow": _rainbow}


def picture(name: str, width: int = 640, height: int = 480) -> np.ndarray:
    """The ready-made picture `name` (one of PICTURES) at width × height, BGR."""
    try:
        draw = _DRAW[name]
    except KeyError:
        raise ValueError(f"unknown picture {name!r}; the pictures are: {', '.join(PICTURES)}") \
            from None
    return draw(int(height), int(width))
