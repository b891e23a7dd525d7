"""Person segmentation (mediapipe's selfie segmentation, 256×256): which pixels are a person.

    seg = Segmenter(Camera())
    private = seg.blur(frame)                          # blur the room behind the student
    beach = seg.replace_background(frame, picture)     # or put a picture behind them

Uses: privacy (the kit can show the class a live picture without showing the classroom or
home behind a child), a green-screen effect, and a lesson on what "pixel classification" means.
The mask stays in memory like every frame; nothing is saved unless a student saves a picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import cv2
import numpy as np

from labkit.vision.device import VisionDetector, default_store, load_model
from labkit.vision.frames import Prepared, to_bgr
from labkit.vision.roi import Roi, crop

MODEL = "selfie_segmentation"
GRID = (32, 24)   # the coarse mask sent to the web page (width, height)


@dataclass(frozen=True)
class SegmentationResult:
    """`small`: the model's float32 person mask (0–1, 1 = person) at its own 256×256 size,
    stretched over the frame; `mask`: the same at the frame's size (made on first use, so a
    live page that only needs `coverage` and `grid` never pays for it). `coverage`: the share
    of the frame that is person. `grid`: a coarse 0/1 mask, rows of '0'/'1' text, for the
    page's overlay (the mask itself is not sent)."""

    small: np.ndarray = field(repr=False, compare=False)
    coverage: float
    width: int
    height: int
    grid: tuple[str, ...] = ()

    @cached_property
    def mask(self) -> np.ndarray:
        return cv2.resize(self.small, (self.width, self.height), interpolation=cv2.INTER_LINEAR)

    def binary(self, threshold: float = 0.5) -> np.ndarray:
        return self.mask >= threshold


class Segmenter(VisionDetector[SegmentationResult]):
    """Finds the person pixels. `value` is 1 while at least `min_coverage` of the frame is a
    person; `score` is the coverage (0–1), so `bar.source = seg.score` shows it."""

    topic = "vision.segmentation"

    def __init__(self, camera: Any = None, *, min_coverage: float = 0.02, store: Any = None,
                 **kwargs: Any) -> None:
        self.store = store if store is not None else default_store()
        self.model = load_model(self.store, MODEL)
        self._in = self.model.inputs[0].name
        self._out = self.model.outputs[0].name
        _, self._h, self._w, _ = self.model.inputs[0].shape
        self.min_coverage = min_coverage
        super().__init__(camera, **kwargs)

    def mask(self, frame: Any) -> np.ndarray:
        """The person mask for a frame, at its size, without touching the device state."""
        from labkit.vision.frames import prepare

        prepared = prepare(frame)
        w, h = prepared.size
        return cv2.resize(self._small(prepared), (w, h), interpolation=cv2.INTER_LINEAR)

    def _small(self, frame: Prepared) -> np.ndarray:
        image = frame.image
        h, w = image.shape[:2]
        # mediapipe stretches the whole frame to 256×256 (no letterbox) for this model
        tensor, _, _ = crop(image, Roi.whole(w, h), self._w, self._h, keep_aspect=False,
                            value_range=(0.0, 1.0), border="zero", swap_rb=True)
        # the runtime hands back a fresh array: kept as it is, not copied again
        return self.model.run({self._in: tensor})[self._out][0, :, :, 0].astype(
            np.float32, copy=False)

    def _detect(self, frame: Prepared) -> SegmentationResult:
        small = self._small(frame)
        # the share of person in each cell, averaged across then down: the same area means
        # as one INTER_AREA resize to the grid (to float rounding), at ~60 % of its cost, as
        # the first step divides the width evenly
        across = cv2.resize(small, (GRID[0], small.shape[0]), interpolation=cv2.INTER_AREA)
        grid = cv2.resize(across, GRID, interpolation=cv2.INTER_AREA) >= 0.5
        # "0"/"1" per cell: the grid's ASCII bytes at once, cut into rows
        text = (grid.view(np.uint8) + 48).tobytes().decode("ascii")
        width = GRID[0]
        rows = tuple(text[i:i + width] for i in range(0, len(text), width))
        # count_nonzero / size: the same value as (small >= 0.5).mean(), a sixth of its cost
        coverage = np.count_nonzero(small >= 0.5) / small.size
        return SegmentationResult(small, coverage, frame.size[0], frame.size[1], rows)

    def summary(self, result: SegmentationResult) -> tuple[int, str, float]:
        present = result.coverage >= self.min_coverage
        return (1 if present else 0, "person" if present else "", result.coverage)

    def to_json(self, result: SegmentationResult) -> dict[str, Any]:
        data = {"coverage": round(result.coverage, 4), "width": result.width,
                "height": result.height, "grid": list(result.grid), "seq": self.last_seq,
                "ms": round(self.last_latency * 1000, 2)}
        for extra in self.json_extras:
            data.update(extra())
        return data

    # -- effects ------------------------------------------------------------------------------
    def _result_for(self, frame: Any, result: SegmentationResult | None) -> SegmentationResult:
        return result if result is not None else self.detect(frame)

    def blur(self, frame: Any, result: SegmentationResult | None = None, *,
             target: str = "background", strength: int = 31) -> np.ndarray:
        """Privacy blur: blur the background (default) or the person (`target="person"`)."""
        if target not in ("background", "person"):
            raise ValueError("target must be 'background' or 'person'")
        image = to_bgr(frame)
        result = self._result_for(frame, result)
        k = max(3, int(strength) | 1)
        blurred = cv2.GaussianBlur(image, (k, k), 0)
        alpha = result.mask if target == "person" else 1.0 - result.mask
        return _blend(blurred, image, alpha)

    def replace_background(self, frame: Any, background: Any,
                           result: SegmentationResult | None = None) -> np.ndarray:
        """The person in front of another picture (any size: it is resized) or a BGR colour."""
        image = to_bgr(frame)
        result = self._result_for(frame, result)
        h, w = image.shape[:2]
        if isinstance(background, tuple):
            back = np.empty_like(image)
            back[:] = np.array(background, np.uint8)
        else:
            back = cv2.resize(to_bgr(background), (w, h), interpolation=cv2.INTER_AREA)
        return _blend(image, back, result.mask)

    @staticmethod
    def draw(frame: Any, result: SegmentationResult) -> np.ndarray:
        """The frame with the person tinted green (for saved pictures and headless use)."""
        image = to_bgr(frame)
        tint = image.copy()
        tint[:] = (60, 200, 60)
        return _blend(cv2.addWeighted(image, 0.5, tint, 0.5, 0), image, result.mask)


def _blend(front: np.ndarray, back: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """front where alpha = 1, back where alpha = 0 (alpha per pixel, 0–1)."""
    a = np.asarray(alpha, np.float32)
    if a.ndim == 2:
        a = a[:, :, None]
    out = front.astype(np.float32) * a + back.astype(np.float32) * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
