"""Checks of the door-counter lab the vocabulary cannot say."""

from __future__ import annotations

from typing import Any

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog, overlap

RED, GREEN = (1, 0, 0), (0, 1, 0)
MIN_S = 0.5
#: the largest value a log entry of this lab may hold: a number, a word, an RGB triple
MAX_ITEMS = 3


def _colour_is(colour: tuple[int, int, int]) -> Any:
    def test(value: object) -> bool:
        try:
            return tuple(round(float(c)) for c in value) == colour  # type: ignore[union-attr]
        except (TypeError, ValueError):
            return False
    return test


def red_while_full(log: EventLog) -> CheckResult:
    """the light was red while the room was full and green again once someone left"""
    full = log.intervals("full")
    red = log.intervals("rgb", active=_colour_is(RED))
    green = log.intervals("rgb", active=_colour_is(GREEN))
    for period in full:
        if sum(overlap(period, r) for r in red) < MIN_S:
            continue
        after = [g for g in green if g[0] >= period[1] - 0.2 and g[1] - g[0] >= MIN_S]
        if after:
            return CheckResult.boolean(True)
    return CheckResult.boolean(False)


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return not isinstance(value, str) or len(value) <= 200
    if isinstance(value, (list, tuple)):
        return len(value) <= MAX_ITEMS and all(isinstance(v, (int, float)) for v in value)
    return False


def _highest(log: EventLog, name: str) -> float:
    values = [e.value for e in log.entries(name) if isinstance(e.value, (int, float))]
    return max(values, default=0)


def no_picture_in_the_log(log: EventLog) -> CheckResult:
    """people were counted both ways and the run's record holds only numbers: no picture"""
    if not (_highest(log, "entered") > 0 and _highest(log, "went_out") > 0):
        return CheckResult.boolean(False, "nobody has been counted in and out yet")
    kept = log.count("kept")
    odd = sorted({e.name for e in log.entries() if not _plain(e.value)})
    if kept or odd:
        return CheckResult.boolean(False, f"kept pictures: {kept}; not plain values: {odd}")
    return CheckResult.boolean(True)
