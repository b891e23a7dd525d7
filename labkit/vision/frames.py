"""Turn whatever a student hands a detector into a BGR uint8 image, or say clearly why not.

Why this exists: a detector runs inside the web server and in 5-line student programs. A
grayscale webcam, a PNG with an alpha channel, a float image from a maths lesson or a 4K photo
must not crash the serving process or give silently wrong boxes. Convertible frames are
converted; anything else raises `FrameError` (a `LabkitError` *and* a `ValueError`) with a fix.

Very large frames are shrunk before the models see them (models work at 128–256 px anyway);
`Prepared.scale` lets each task map results back to the caller's pixel coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from labkit.errors import LabkitError

#: longer side above which a frame is shrunk before detection (4K → 1920)
MAX_SIDE = 1920
#: frames beyond this are refused: almost certainly a mistake, and memory on a Pi is small
REFUSE_PIXELS = 100_000_000
MIN_SIDE = 8


class FrameError(LabkitError, ValueError):
    """A frame a detector cannot use (empty, wrong type or shape)."""

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message, fix=fix or "pass a BGR uint8 image, e.g. camera.read()",
                         code="bad_frame")


@dataclass(frozen=True)
class Prepared:
    """A frame ready for the models.

    `image` is BGR uint8 and at most MAX_SIDE on its longer side; `scale` multiplies its
    pixel coordinates back into the original frame's (1.0 when it was not shrunk);
    `size` is the original (width, height).
    """

    image: np.ndarray
    scale: float
    size: tuple[int, int]
    seq: int | None = None

    @property
    def rgb(self) -> np.ndarray:
        return cv2.cvtColor(self.image, cv2.COLOR_BGR2RGB)


def frame_pixels(frame: Any) -> tuple[Any, int | None]:
    """The pixel array of a camera `Frame` (anything with `.image`) or the array itself."""
    if frame is None:
        raise FrameError("no frame: the camera has not delivered a picture yet",
                         fix="wait for the camera (camera.wait_for_frame()) and try again")
    if hasattr(frame, "image") and not isinstance(frame, np.ndarray):
        return frame.image, getattr(frame, "seq", None)
    return frame, None


def to_uint8(image: np.ndarray) -> np.ndarray:
    """uint8 as is; bool → 0/255; float in [0, 1] or [0, 255] → uint8; others refused."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        if not np.all(np.isfinite(image)):
            raise FrameError("the frame has NaN or infinite pixel values",
                             fix="fix the image maths before detecting, e.g. np.nan_to_num")
        top = float(image.max()) if image.size else 0.0
        if float(image.min()) < 0 or top > 255:
            raise FrameError(f"float frame values run from {float(image.min()):.3g} to {top:.3g}; "
                             "expected 0–1 or 0–255", fix="scale the image to 0–255 uint8")
        factor = 255.0 if top <= 1.0 else 1.0
        return np.clip(np.rint(image * factor), 0, 255).astype(np.uint8)
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    raise FrameError(f"frames of type {image.dtype} are not images",
                     fix="pass a uint8 BGR image (np.uint8), as the camera gives")


def to_bgr(frame: Any) -> np.ndarray:
    """Any supported frame → contiguous BGR uint8 (H, W, 3)."""
    pixels, _ = frame_pixels(frame)
    if not isinstance(pixels, np.ndarray):
        try:
            pixels = np.asarray(pixels)
        except Exception:
            raise FrameError(f"a {type(pixels).__name__} is not an image") from None
        if pixels.dtype == np.object_:
            raise FrameError(f"a {type(frame).__name__} is not an image")
    if pixels.size == 0:
        raise FrameError("the frame is empty (0 pixels)",
                         fix="check the camera or file that produced it")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (3, 4)):
        raise FrameError(f"a frame of shape {pixels.shape} is not an image",
                         fix="pass (height, width, 3) BGR, (height, width) gray or "
                             "(height, width, 4) BGRA")
    h, w = pixels.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise FrameError(f"the frame is only {w}×{h} pixels", fix="use a picture at least "
                         f"{MIN_SIDE}×{MIN_SIDE}, ideally 640×480")
    if h * w > REFUSE_PIXELS:
        raise FrameError(f"the frame is {w}×{h} pixels, too big for the kit",
                         fix="resize it first (e.g. cv2.resize to 1920 wide)")
    pixels = to_uint8(pixels)
    if pixels.ndim == 2:
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
    if pixels.shape[2] == 4:
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(pixels)


def prepare(frame: Any, max_side: int = MAX_SIDE) -> Prepared:
    """Validate and convert a frame; shrink it if its longer side exceeds `max_side`."""
    _, seq = frame_pixels(frame)
    image = to_bgr(frame)
    h, w = image.shape[:2]
    longest = max(h, w)
    if longest <= max_side:
        return Prepared(image, 1.0, (w, h), seq)
    factor = max_side / longest
    small = cv2.resize(image, (max(1, round(w * factor)), max(1, round(h * factor))),
                       interpolation=cv2.INTER_AREA)
    return Prepared(small, w / small.shape[1], (w, h), seq)
