"""Gesture rules on synthetic landmark sequences (no model): every gesture, at any angle,
size and place in the frame, with a little jitter; and the finger count 0–5."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labkit.vision import gestures

MCP = {"index": (-0.30, -1.00), "middle": (-0.05, -1.05), "ring": (0.20, -1.00),
       "pinky": (0.42, -0.90)}
BONES = (0.45, 0.28, 0.22)


def _finger(name: str, up: bool) -> list[tuple[float, float]]:
    x, y = MCP[name]
    if up:
        return [(x, y), (x, y - BONES[0]), (x, y - BONES[0] - BONES[1]),
                (x, y - sum(BONES))]
    # folded towards the palm: the PIP rises a little, the tip comes back down over the palm
    return [(x, y), (x, y - 0.25), (x, y - 0.08), (x, y + 0.12)]


def _thumb(state: str) -> list[tuple[float, float]]:
    if state == "out":
        return [(-0.25, -0.20), (-0.50, -0.42), (-0.70, -0.60), (-0.88, -0.76)]
    if state == "ok":   # bent to meet the index tip
        return [(-0.25, -0.20), (-0.50, -0.45), (-0.62, -0.75), (-0.60, -1.05)]
    return [(-0.25, -0.20), (-0.42, -0.45), (-0.28, -0.66), (-0.08, -0.70)]   # across palm


def hand(up: set[str], thumb: str = "in", *, angle: float = 0.0, scale: float = 100.0,
         at: tuple[float, float] = (320.0, 400.0), jitter: float = 0.0,
         seed: int = 0) -> np.ndarray:
    """21 landmarks (x, y) in pixels for a hand with the named fingers up."""
    pts = [(0.0, 0.0)] + _thumb(thumb)
    for name in ("index", "middle", "ring", "pinky"):
        chain = _finger(name, name in up)
        if name == "index" and thumb == "ok":   # index curls down to touch the thumb
            x, y = MCP["index"]
            chain = [(x, y), (x - 0.12, y - 0.30), (x - 0.25, y - 0.30), (x - 0.30, y - 0.08)]
        pts += chain
    p = np.array(pts)
    a = math.radians(angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    p = p @ rot.T * scale + np.array(at)
    if jitter:
        p += np.random.default_rng(seed).normal(0, jitter * scale, p.shape)
    return p


ALL = {"index", "middle", "ring", "pinky"}
CASES = {
    "open_palm": dict(up=ALL, thumb="out"),
    "fist": dict(up=set()),
    "point": dict(up={"index"}),
    "victory": dict(up={"index", "middle"}),
    "ok": dict(up={"middle", "ring", "pinky"}, thumb="ok"),
}


@pytest.mark.parametrize("gesture", sorted(CASES))
@pytest.mark.parametrize("angle", [-35.0, 0.0, 25.0])
@pytest.mark.parametrize("scale", [40.0, 160.0])
def test_gestures_any_angle_and_size(gesture: str, angle: float, scale: float) -> None:
    for seed in range(3):
        pts = hand(**CASES[gesture], angle=angle, scale=scale, jitter=0.015, seed=seed)
        assert gestures.classify(pts) == gesture


def test_thumbs_up_only_when_the_thumb_points_up() -> None:
    # a fist with the thumb out sideways, turned until the thumb points up
    side = hand(set(), thumb="out")
    thumb_dir = side[4] - side[2]
    turn = math.degrees(math.atan2(thumb_dir[0], -thumb_dir[1]))   # angle from 'up'
    assert gestures.classify(hand(set(), thumb="out", angle=-turn)) == "thumbs_up"
    assert gestures.classify(hand(set(), thumb="out", angle=-turn + 20)) == "thumbs_up"
    assert gestures.classify(hand(set(), thumb="out", angle=180 - turn)) == ""   # thumbs down
    assert gestures.classify(side) == ""                                          # sideways


@pytest.mark.parametrize("n", range(6))
def test_finger_count(n: int) -> None:
    order = ["index", "middle", "ring", "pinky"]
    up = set(order[:min(n, 4)])
    thumb = "out" if n == 5 else "in"
    for angle in (-20.0, 0.0, 30.0):
        assert gestures.count_fingers(hand(up, thumb, angle=angle)) == n


def test_rock_paper_scissors() -> None:
    assert gestures.rock_paper_scissors(hand(set())) == "rock"
    assert gestures.rock_paper_scissors(hand(ALL, "out")) == "paper"
    assert gestures.rock_paper_scissors(hand(ALL, "in")) == "paper"
    assert gestures.rock_paper_scissors(hand({"index", "middle"}, angle=40)) == "scissors"
    assert gestures.rock_paper_scissors(hand({"index"})) == ""


def test_a_game_round_sequence() -> None:
    """A hand closing from open to fist over 5 frames, then showing scissors: the labels
    change exactly where the fingers fold."""
    frames = []
    for k in range(5):   # fingers fold one by one: pinky first
        up = {"index", "middle", "ring", "pinky"} - set(["pinky", "ring", "middle", "index"][:k])
        frames.append(hand(up, "out" if k == 0 else "in", angle=5.0 * k))
    frames.append(hand({"index", "middle"}))
    labels = [gestures.rock_paper_scissors(f) for f in frames]
    counts = [gestures.count_fingers(f) for f in frames]
    assert labels == ["paper", "", "scissors", "", "rock", "scissors"]
    assert counts == [5, 3, 2, 1, 0, 2]


def test_bad_landmarks() -> None:
    with pytest.raises(ValueError, match="21 hand landmarks"):
        gestures.classify(np.zeros((20, 2)))
