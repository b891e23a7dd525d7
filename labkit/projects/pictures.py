"""What happens to a camera picture a student keeps: faces blurred (or boxed out) first.

A lab that declares `pictures: {faces: blur}` (or `box`) never writes a face it can find:
the kept picture is searched with the face detector, every face found is covered (its box
made larger, to take in hair and ears, then pixelated and blurred — or filled), and the result
is searched *again*, with a more sensitive threshold than the live detector uses. If a face
is still found after a few passes the picture is refused, not saved. The numbers (faces
before, covered, found after) go into the lab's log as the `kept` entry, so a lesson can
check that the saved picture hides every face.

Why a more sensitive second search: a blurred face that the normal threshold just misses is
still a face a person can recognise; the check should err on the side of covering too much.
What it cannot promise: a face the detector never finds (turned away, very small) is not
covered — the lesson says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

RULES = ("blur", "box")
#: the box the detector gives is the inner face; this much bigger covers the head
GROW = 1.7
#: the second search counts a face from this score (the live detector's default is 0.55)
VERIFY_SCORE = 0.45
PASSES = 3


@dataclass(frozen=True)
class Protected:
    """A picture made safe to keep, and what was done to it."""

    image: np.ndarray
    faces_before: int
    covered: int
    faces_after: int

    def as_log(self) -> dict[str, Any]:
        return {"faces_before": self.faces_before, "covered": self.covered,
                "faces_after": self.faces_after}


def _cover(image: np.ndarray, boxes: list[tuple[float, float, float, float]], rule: str,
           grow: float) -> np.ndarray:
    out = image.copy()
    h, w = out.shape[:2]
    for x, y, bw, bh in boxes:
        cx, cy = x + bw / 2, y + bh / 2
        side_w, side_h = bw * grow, bh * grow * 1.15
        x0, y0 = int(max(0, cx - side_w / 2)), int(max(0, cy - side_h / 2))
        x1, y1 = int(min(w, cx + side_w / 2)), int(min(h, cy + side_h / 2))
        if x1 <= x0 or y1 <= y0:
            continue
        region = out[y0:y1, x0:x1]
        if rule == "box":
            region[:] = (128, 128, 128)
            continue
        # down to 4×4 colours and smoothly back up: no eyes, mouth or outline are left
        small = cv2.resize(region, (4, 4), interpolation=cv2.INTER_AREA)
        region[:] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    return out


def _boxes(detector: Any, image: np.ndarray) -> list[tuple[float, float, float, float]]:
    result = detector.detect(image)
    return [(f.box.x, f.box.y, f.box.w, f.box.h) for f in result.faces]


def protect(image: np.ndarray, rule: str, store: Any) -> Protected:
    """`image` with every face the detector finds covered by `rule` (blur | box), checked
    again afterwards; a LabkitError if a face is still found (nothing may be saved then)."""
    from labkit.vision.faces import FaceDetector

    if rule not in RULES:
        raise ValueError(f"faces: must be one of {', '.join(RULES)}, not {rule!r}")
    live = FaceDetector(store=store, start=False)
    sensitive = FaceDetector(store=store, min_score=VERIFY_SCORE, start=False)
    try:
        found = _boxes(sensitive, image)
        before = len([b for b in _boxes(live, image)])
        out, covered = image, 0
        for n in range(PASSES):
            if not found:
                break
            out = _cover(out, found, rule if n < PASSES - 1 else "box", GROW + 0.3 * n)
            covered += len(found)
            found = _boxes(sensitive, out)
        if found:
            raise LabkitError(_("A face could still be found after covering it, so the "
                                "picture was not kept."), code="face_left",
                              fix=_("Move further from the camera and try again."))
        return Protected(out, before, covered, 0)
    finally:
        live.close()
        sensitive.close()
