"""Movements made, counted or not: a half jumping jack is an attempt but not a rep, a jittery
angle between the thresholds is not a second attempt, and a rep is never more than them."""

from __future__ import annotations

from labkit.drivers.gpio import SimPinFactory
from labkit.vision.reps import RepCounter


def _feed(counter: RepCounter, frames: list[tuple[float, float]]) -> None:
    for shoulder, spread in frames:
        counter.update({"shoulder": shoulder, "spread": spread})


STAND = [(20.0, 1.0)] * 3
FULL = [(90.0, 1.4), (150.0, 1.9), (150.0, 1.9), (90.0, 1.4)] + STAND
HALF = [(70.0, 1.1), (70.0, 1.1)] + STAND
JITTER = [(62.0, 1.0), (55.0, 1.0), (62.0, 1.0), (56.0, 1.0)] + STAND   # one movement


def test_half_movements_are_attempts_and_not_reps() -> None:
    jacks = RepCounter(None, "jumping_jack", pin_factory=SimPinFactory())
    try:
        _feed(jacks, STAND + FULL + HALF + FULL + JITTER)
        assert (jacks.reps, jacks.attempts) == (2, 4)
        jacks.reset()
        assert (jacks.reps, jacks.attempts) == (0, 0)
        _feed(jacks, STAND + [(45.0, 1.0)] * 4 + STAND)      # arms barely moved: nothing
        assert (jacks.reps, jacks.attempts) == (0, 0)
    finally:
        jacks.close()
