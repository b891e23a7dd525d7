"""Checks of the gesture remote that the vocabulary cannot say: the RGB LED showed the colour
of the gesture in view (the RGB LED is logged as [r, g, b], the gesture as `gesture` and its
colour — taught on /learn, or the built-in gestures' — as the colour name `colour`)."""

from __future__ import annotations

from typing import Any, Callable

from labkit.projects.base import CheckResult
from labkit.projects.bindings import COLOURS
from labkit.projects.eventlog import EventLog, count_overlapping, overlap


def _is(colour: tuple[float, float, float]) -> Callable[[Any], bool]:
    def active(value: Any) -> bool:
        try:
            return all(abs(float(v) - c) < 0.05 for v, c in zip(value, colour, strict=True))
        except (TypeError, ValueError):
            return False
    return active


def _lit_for(log: EventLog, gesture: str) -> bool:
    """Did the LED show the gesture's colour for ≥ 0.2 s while it was in view?"""
    shown = log.intervals("gesture", lambda v: v == gesture)
    for name, rgb in COLOURS.items():
        if name in ("off", "black"):
            continue
        wanted = log.intervals("colour", lambda v, n=name: v == n)
        both = [(max(a[0], b[0]), min(a[1], b[1])) for a in shown for b in wanted
                if overlap(a, b) > 0]
        if both and count_overlapping(log.intervals("rgb", _is(rgb)), both, min_seconds=0.2):
            return True
    return False


def colours_follow_gestures(log: EventLog) -> CheckResult:
    """two different gestures each turned the RGB LED to their own colour"""
    gestures = sorted({str(e.value) for e in log.entries("gesture") if e.value})
    return CheckResult.counting(sum(_lit_for(log, g) for g in gestures), 2)
