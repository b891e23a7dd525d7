"""Checks of the gesture remote that the vocabulary cannot say: the RGB LED showed the
colour the lab's rule gives for the gesture in view (the RGB LED is logged as [r, g, b])."""

from __future__ import annotations

from typing import Any

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog, count_overlapping

GREEN = (0, 1, 0)
RED = (1, 0, 0)


def _is(colour: tuple[int, int, int]) -> Any:
    def active(value: Any) -> bool:
        try:
            return tuple(round(float(v)) for v in value) == colour
        except (TypeError, ValueError):
            return False
    return active


def _gesture(name: str) -> Any:
    return lambda value: value == name


def _colour_with(log: EventLog, colour: tuple[int, int, int], gesture: str) -> int:
    return count_overlapping(log.intervals("rgb", _is(colour)),
                             log.intervals("gesture", _gesture(gesture)), min_seconds=0.2)


def green_with_open_palm(log: EventLog) -> CheckResult:
    """the RGB LED turned green while an open palm was shown, twice"""
    return CheckResult.counting(_colour_with(log, GREEN, "open_palm"), 2)


def red_with_fist(log: EventLog) -> CheckResult:
    """the RGB LED turned red while a fist was shown"""
    return CheckResult.counting(_colour_with(log, RED, "fist"), 1)
