"""Hand gestures from the 21 hand landmarks: finger states, named gestures, finger count and
rock / paper / scissors.

Pure geometry on landmark positions — no model — so it is explainable in class ("a finger is
up when its tip is further from the wrist than its middle joint") and unit-testable on landmark
sequences. Distances are divided by the palm size (wrist → middle-finger knuckle), so the
rules hold near or far from the camera, and angles make them hold for a tilted hand.

Landmark indices follow mediapipe's hand model:
0 wrist · thumb 1–4 · index 5–8 · middle 9–12 · ring 13–16 · pinky 17–20 (knuckle MCP, PIP,
DIP, tip; the thumb has CMC, MCP, IP, tip).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WRIST = 0
THUMB = (1, 2, 3, 4)
INDEX = (5, 6, 7, 8)
MIDDLE = (9, 10, 11, 12)
RING = (13, 14, 15, 16)
PINKY = (17, 18, 19, 20)
FINGERS = {"thumb": THUMB, "index": INDEX, "middle": MIDDLE, "ring": RING, "pinky": PINKY}

#: every gesture label HandTracker can report ("" when no rule matches)
GESTURES = ("open_palm", "fist", "point", "victory", "thumbs_up", "ok")
RPS = ("rock", "paper", "scissors")


@dataclass(frozen=True)
class FingerState:
    """Which fingers are extended, thumb first."""

    thumb: bool
    index: bool
    middle: bool
    ring: bool
    pinky: bool

    @property
    def count(self) -> int:
        return int(self.thumb) + int(self.index) + int(self.middle) + int(self.ring) + int(self.pinky)

    def as_tuple(self) -> tuple[bool, ...]:
        return (self.thumb, self.index, self.middle, self.ring, self.pinky)


def _pts(landmarks: np.ndarray | list) -> np.ndarray:
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] != 21 or pts.shape[1] < 2:
        raise ValueError(f"expected 21 hand landmarks (x, y[, z]), got shape {pts.shape}")
    return pts[:, :2]


Point = tuple[float, float]


def _xy(pts: np.ndarray) -> list[Point]:
    """The landmarks as plain (x, y) floats: the rules below do some 20 lengths and angles
    per hand on single points, where a numpy call costs more than its arithmetic."""
    return [(x, y) for x, y in pts[:, :2].tolist()]


def _dist(a: Point, b: Point) -> float:
    dx, dy = a[0] - b[0], a[1] - b[1]
    return math.sqrt(dx * dx + dy * dy)


def palm_size(pts: np.ndarray | list[Point]) -> float:
    """Wrist → middle-finger knuckle distance: the hand's own ruler."""
    p = _xy(pts) if isinstance(pts, np.ndarray) else pts
    return _dist(p[MIDDLE[0]], p[WRIST]) or 1.0


def _angle(a: Point, b: Point, c: Point) -> float:
    """The angle at b (degrees) between b→a and b→c; 180 = straight."""
    ux, uy, vx, vy = a[0] - b[0], a[1] - b[1], c[0] - b[0], c[1] - b[1]
    cos = (ux * vx + uy * vy) / (math.sqrt(ux * ux + uy * uy) * math.sqrt(vx * vx + vy * vy)
                                 + 1e-9)
    return math.degrees(math.acos(min(1.0, max(-1.0, cos))))


def finger_extended(pts: np.ndarray | list[Point], finger: tuple[int, int, int, int]) -> bool:
    """A long finger is extended when it is fairly straight at the middle joint and its tip
    is further from the wrist than that joint."""
    p = _xy(pts) if isinstance(pts, np.ndarray) else pts
    mcp, pip, _dip, tip = (p[i] for i in finger)
    wrist = p[WRIST]
    return _angle(mcp, pip, tip) > 150.0 and _dist(tip, wrist) > _dist(pip, wrist) * 1.12


def thumb_extended(pts: np.ndarray | list[Point]) -> bool:
    """The thumb is out when it is straight-ish and its tip is well away from the index
    knuckle (a folded thumb lies across the palm, near it)."""
    p = _xy(pts) if isinstance(pts, np.ndarray) else pts
    cmc, mcp, ip, tip = (p[i] for i in THUMB)
    straight = _angle(mcp, ip, tip) > 140.0 and _angle(cmc, mcp, ip) > 140.0
    return straight and _dist(tip, p[INDEX[0]]) > 0.55 * palm_size(p)


def finger_state(landmarks: np.ndarray | list) -> FingerState:
    return _state_of(_xy(_pts(landmarks)))


def _state_of(p: list[Point]) -> FingerState:
    return FingerState(thumb_extended(p), finger_extended(p, INDEX),
                       finger_extended(p, MIDDLE), finger_extended(p, RING),
                       finger_extended(p, PINKY))


def count_fingers(landmarks: np.ndarray | list) -> int:
    """How many fingers are held up, 0–5."""
    return finger_state(landmarks).count


def classify(landmarks: np.ndarray | list, state: FingerState | None = None) -> str:
    """The gesture name (one of GESTURES), or "" when the hand matches none of them.

    Image y grows downwards, so "up" means a smaller y. `state`: this hand's finger_state,
    when the caller has it already (it costs ~18 angle/length computations per hand).
    """
    p = _xy(_pts(landmarks))
    s = state if state is not None else _state_of(p)
    thumb_tip, index_tip = p[THUMB[3]], p[INDEX[3]]
    if _dist(thumb_tip, index_tip) < 0.35 * palm_size(p) and s.middle and s.ring and s.pinky:
        return "ok"
    if s.thumb and not (s.index or s.middle or s.ring or s.pinky):
        dx, dy = thumb_tip[0] - p[THUMB[1]][0], thumb_tip[1] - p[THUMB[1]][1]
        if dy < 0 and abs(dy) > abs(dx):
            return "thumbs_up"
        return ""
    fingers = (s.index, s.middle, s.ring, s.pinky)
    if all(fingers) and s.thumb:
        return "open_palm"
    if not any(fingers):
        return "fist"
    if fingers == (True, False, False, False):
        return "point"
    if fingers == (True, True, False, False):
        return "victory"
    return ""


def rock_paper_scissors(landmarks: np.ndarray | list, state: FingerState | None = None) -> str:
    """'rock' (fist), 'paper' (open hand, four fingers are enough), 'scissors' (index and
    middle), or '' for anything else. `state` as for classify."""
    s = state if state is not None else finger_state(landmarks)
    fingers = (s.index, s.middle, s.ring, s.pinky)
    if not any(fingers):
        return "rock"
    if all(fingers):
        return "paper"
    if fingers == (True, True, False, False):
        return "scissors"
    return ""
