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


def palm_size(pts: np.ndarray) -> float:
    """Wrist → middle-finger knuckle distance: the hand's own ruler."""
    return float(np.linalg.norm(pts[MIDDLE[0]] - pts[WRIST])) or 1.0


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """The angle at b (degrees) between b→a and b→c; 180 = straight."""
    u, v = a - b, c - b
    cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def finger_extended(pts: np.ndarray, finger: tuple[int, int, int, int]) -> bool:
    """A long finger is extended when it is fairly straight at the middle joint and its tip
    is further from the wrist than that joint."""
    mcp, pip, dip, tip = (pts[i] for i in finger)
    wrist = pts[WRIST]
    straight = _angle(mcp, pip, tip) > 150.0
    reaches = np.linalg.norm(tip - wrist) > np.linalg.norm(pip - wrist) * 1.12
    return bool(straight and reaches)


def thumb_extended(pts: np.ndarray) -> bool:
    """The thumb is out when it is straight-ish and its tip is well away from the index
    knuckle (a folded thumb lies across the palm, near it)."""
    cmc, mcp, ip, tip = (pts[i] for i in THUMB)
    straight = _angle(mcp, ip, tip) > 140.0 and _angle(cmc, mcp, ip) > 140.0
    away = np.linalg.norm(tip - pts[INDEX[0]]) > 0.55 * palm_size(pts)
    return bool(straight and away)


def finger_state(landmarks: np.ndarray | list) -> FingerState:
    pts = _pts(landmarks)
    return FingerState(thumb_extended(pts), finger_extended(pts, INDEX),
                       finger_extended(pts, MIDDLE), finger_extended(pts, RING),
                       finger_extended(pts, PINKY))


def count_fingers(landmarks: np.ndarray | list) -> int:
    """How many fingers are held up, 0–5."""
    return finger_state(landmarks).count


def classify(landmarks: np.ndarray | list, state: FingerState | None = None) -> str:
    """The gesture name (one of GESTURES), or "" when the hand matches none of them.

    Image y grows downwards, so "up" means a smaller y. `state`: this hand's finger_state,
    when the caller has it already (it costs ~18 angle/length computations per hand).
    """
    pts = _pts(landmarks)
    s = state if state is not None else finger_state(pts)
    size = palm_size(pts)
    thumb_tip, index_tip = pts[THUMB[3]], pts[INDEX[3]]
    if (np.linalg.norm(thumb_tip - index_tip) < 0.35 * size
            and s.middle and s.ring and s.pinky):
        return "ok"
    if s.thumb and not (s.index or s.middle or s.ring or s.pinky):
        direction = thumb_tip - pts[THUMB[1]]
        if direction[1] < 0 and abs(direction[1]) > abs(direction[0]):
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
