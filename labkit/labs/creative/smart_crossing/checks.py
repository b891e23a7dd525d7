"""Checks of the smart-crossing lab the vocabulary cannot say."""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog, overlap

GREEN = (0, 1, 0)
MIN_S = 0.5


def _is_green(value: object) -> bool:
    try:
        return tuple(round(float(c)) for c in value) == GREEN  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return False


def cars_get_green(log: EventLog) -> CheckResult:
    """a car with no pedestrian waiting had a green light"""
    walkers = log.intervals("walker")
    green = log.intervals("rgb", active=_is_green)
    for car in log.intervals("car"):
        free = car[1] - car[0] - sum(overlap(car, w) for w in walkers)
        lit = sum(overlap(car, g) for g in green)
        if free >= MIN_S and lit >= MIN_S:
            return CheckResult.boolean(True)
    return CheckResult.boolean(False)
