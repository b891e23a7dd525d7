"""Regions of interest: crop a (rotated) rectangle of a frame into a model's input tensor, and
map the model's normalised coordinates back to the frame.

This reproduces what mediapipe's ImageToTensorCalculator does on the CPU (the behaviour the
models were trained and evaluated with): the ROI is padded to the tensor's aspect ratio when
`keep_aspect` (the padding is reported as a letterbox), its four corners are mapped onto the
tensor's corners, pixels are sampled bilinearly, outside pixels are zero or replicated, and
0–255 is mapped linearly onto the model's float range. Matching it matters: a half-pixel or a
colour-range slip moves landmarks visibly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Roi:
    """A rotated rectangle in pixels; `rotation` in radians, clockwise on screen (y down)."""

    cx: float
    cy: float
    w: float
    h: float
    rotation: float = 0.0

    @classmethod
    def whole(cls, width: int, height: int) -> "Roi":
        return cls(width / 2.0, height / 2.0, float(width), float(height), 0.0)

    def corners(self) -> np.ndarray:
        """Top-left, top-right, bottom-right, bottom-left corners (pixels), as drawn."""
        u = np.array([math.cos(self.rotation), math.sin(self.rotation)]) * self.w / 2
        v = np.array([-math.sin(self.rotation), math.cos(self.rotation)]) * self.h / 2
        c = np.array([self.cx, self.cy])
        return np.array([c - u - v, c + u - v, c + u + v, c - u + v])


def normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def pad_to_aspect(roi: Roi, out_w: int, out_h: int) -> tuple[Roi, tuple[float, float, float, float]]:
    """Grow the ROI to the tensor's aspect ratio; the letterbox (left, top, right, bottom)."""
    tensor_aspect = out_h / out_w
    roi_aspect = roi.h / roi.w
    if tensor_aspect > roi_aspect:
        pad_v = (1.0 - roi_aspect / tensor_aspect) / 2.0
        # Roi(...) rather than dataclasses.replace: replace() costs ~4 µs per frame
        return (Roi(roi.cx, roi.cy, roi.w, roi.w * tensor_aspect, roi.rotation),
                (0.0, pad_v, 0.0, pad_v))
    pad_h = (1.0 - tensor_aspect / roi_aspect) / 2.0
    return Roi(roi.cx, roi.cy, roi.h / tensor_aspect, roi.h, roi.rotation), (pad_h, 0.0, pad_h, 0.0)


def crop_matrix(roi: Roi, out_w: int, out_h: int) -> np.ndarray:
    """The 2×3 affine matrix taking tensor pixel coordinates to frame pixel coordinates."""
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    w, h = roi.w, roi.h
    sx, sy = w / out_w, h / out_h
    # the top-left corner, centre - (cos, sin)·w/2 - (-sin, cos)·h/2, in plain floats (the
    # same IEEE operations as the numpy form, without four tiny arrays per frame)
    left = roi.cx - cos * w / 2 - -sin * h / 2
    top = roi.cy - sin * w / 2 - cos * h / 2
    return np.array([[cos * sx, -sin * sy, left],
                     [sin * sx, cos * sy, top]], dtype=np.float64)


def crop_pixels(image: np.ndarray, roi: Roi, out_w: int, out_h: int, *,
                border: str = "zero") -> np.ndarray:
    """The ROI resampled to out_w × out_h uint8 pixels (same channels as `image`)."""
    matrix = crop_matrix(roi, out_w, out_h)
    mode = cv2.BORDER_CONSTANT if border == "zero" else cv2.BORDER_REPLICATE
    return cv2.warpAffine(image, matrix, (out_w, out_h),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=mode,
                          borderValue=(0, 0, 0))


def crop(image: np.ndarray, roi: Roi, out_w: int, out_h: int, *, keep_aspect: bool = True,
         value_range: tuple[float, float] = (0.0, 1.0), border: str = "zero",
         swap_rb: bool = False) -> tuple[np.ndarray, Roi, tuple[float, float, float, float]]:
    """Sample the ROI of a uint8 image into a float32 (1, out_h, out_w, channels) tensor.

    `swap_rb` turns a BGR frame into the RGB the models want *after* cropping: converting the
    small patch instead of the whole frame saves a frame-sized copy on every run.
    Returns the tensor, the ROI actually sampled (padded when `keep_aspect`) and the letterbox.
    """
    letterbox = (0.0, 0.0, 0.0, 0.0)
    if keep_aspect:
        roi, letterbox = pad_to_aspect(roi, out_w, out_h)
    patch = crop_pixels(image, roi, out_w, out_h, border=border)
    if swap_rb and patch.ndim == 3:
        patch = cv2.cvtColor(patch, cv2.COLOR_BGR2RGB)
    lo, hi = value_range
    # one SIMD pass: pixel * scale + offset, straight to float32
    tensor = cv2.addWeighted(patch, (hi - lo) / 255.0, patch, 0.0, lo, dtype=cv2.CV_32F)
    if tensor.ndim == 2 and patch.ndim == 3:   # OpenCV drops a trailing 1-channel axis
        tensor = tensor[:, :, None]
    return tensor[None], roi, letterbox


def remove_letterbox(points: np.ndarray, letterbox: tuple[float, float, float, float]) -> np.ndarray:
    """Normalised tensor coordinates (..., 2) → normalised coordinates inside the ROI."""
    left, top, right, bottom = letterbox
    if not any(letterbox):
        return points
    out = points.astype(np.float64, copy=True)
    out[..., 0] = (out[..., 0] - left) / (1.0 - left - right)
    out[..., 1] = (out[..., 1] - top) / (1.0 - top - bottom)
    return out


def project(points: np.ndarray, roi: Roi) -> np.ndarray:
    """Normalised coordinates inside a (rotated) ROI (..., 2) → frame pixels (mediapipe's
    LandmarkProjection, written in pixels)."""
    x = points[..., 0] - 0.5
    y = points[..., 1] - 0.5
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    out = np.empty(points.shape[:-1] + (2,), np.float64)
    out[..., 0] = (cos * x - sin * y) * roi.w + roi.cx
    out[..., 1] = (sin * x + cos * y) * roi.h + roi.cy
    return out


def transform_rect(roi: Roi, *, scale: float = 1.0, shift_x: float = 0.0, shift_y: float = 0.0,
                   square_long: bool = True) -> Roi:
    """mediapipe's RectTransformationCalculator in pixels: shift along the rotated axes,
    make square on the long side, then scale."""
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    if roi.rotation == 0.0:
        cx, cy = roi.cx + roi.w * shift_x, roi.cy + roi.h * shift_y
    else:
        cx = roi.cx + roi.w * shift_x * cos - roi.h * shift_y * sin
        cy = roi.cy + roi.w * shift_x * sin + roi.h * shift_y * cos
    w, h = roi.w, roi.h
    if square_long:
        w = h = max(w, h)
    return Roi(cx, cy, w * scale, h * scale, roi.rotation)


def rotation_between(p0: np.ndarray, p1: np.ndarray, target: float = math.pi / 2) -> float:
    """The ROI rotation that makes the vector p0→p1 point 'up' in the crop (pixels)."""
    return normalize_radians(target - math.atan2(-(p1[1] - p0[1]), p1[0] - p0[0]))
