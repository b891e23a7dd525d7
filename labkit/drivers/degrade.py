"""Make a picture worse on purpose — darker, blurred, rotated, partly covered — to find out
where a detector stops working (the robustness lab). Pure NumPy/OpenCV on a BGR frame, so the
same function serves the simulated camera's scenes and a live frame.
"""

from __future__ import annotations

from typing import Any, Mapping

import cv2
import numpy as np

#: option → (lowest, highest) accepted value
DEGRADATIONS: dict[str, tuple[float, float]] = {
    "dark": (0.0, 1.0),       # share of the brightness taken away (1 = black)
    "blur": (0.0, 0.2),       # Gaussian blur sigma as a share of the frame height
    "rotate": (-180.0, 180.0),  # degrees, counter-clockwise, about the centre
    "occlude": (0.0, 1.0),    # share of the frame's width covered by a grey card from the left
}


def degrade_options(params: Mapping[str, Any]) -> dict[str, float]:
    """The degradation options in `params`, checked (ValueError names a bad one)."""
    out: dict[str, float] = {}
    for key, (lo, hi) in DEGRADATIONS.items():
        if key not in params:
            continue
        try:
            value = float(params[key])
        except (TypeError, ValueError):
            raise ValueError(f"{key} must be a number from {lo:g} to {hi:g}") from None
        if not lo <= value <= hi:
            raise ValueError(f"{key} must be a number from {lo:g} to {hi:g}, not {value:g}")
        out[key] = value
    return out


def degrade(image: np.ndarray, *, dark: float = 0.0, blur: float = 0.0, rotate: float = 0.0,
            occlude: float = 0.0) -> np.ndarray:
    """A new BGR frame: `image` rotated, covered, blurred and darkened (in that order, the
    order a camera meets them: the scene, a hand over the lens, focus, light)."""
    out = image.copy()
    h, w = out.shape[:2]
    if rotate:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), rotate, 1.0)
        out = cv2.warpAffine(out, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if occlude > 0:
        out[:, : int(round(w * occlude))] = (128, 128, 128)
    if blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), sigmaX=max(0.1, blur * h))
    if dark > 0:
        out = (out.astype(np.float32) * (1.0 - dark)).round().astype(np.uint8)
    return out
