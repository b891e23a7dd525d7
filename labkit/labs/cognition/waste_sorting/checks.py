"""Checks of the waste-sorting lab that the vocabulary cannot say: the RGB LED showed the
bin's colour while the model named that bin (the RGB LED is logged as [r, g, b], the answer
as the `bin` signal — the students' own model's or the built-in demo's), and the answering
model's held-out accuracy was measured."""

from __future__ import annotations

from typing import Any, Callable

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog, count_overlapping

#: the colours of China's four bins, as the RGB LED shows them
BIN_COLOURS = {"recyclable": (0, 0, 1), "kitchen": (0, 1, 0), "hazardous": (1, 0, 0),
               "other": (1, 1, 1)}


def _is(colour: tuple[int, int, int]) -> Callable[[Any], bool]:
    def active(value: Any) -> bool:
        try:
            return tuple(round(float(v)) for v in value) == colour
        except (TypeError, ValueError):
            return False
    return active


def _lit_for(log: EventLog, bin_name: str) -> int:
    return count_overlapping(log.intervals("rgb", _is(BIN_COLOURS[bin_name])),
                             log.intervals("bin", lambda v: v == bin_name), min_seconds=0.3)


def figures_measured(log: EventLog) -> CheckResult:
    """the model answering now was tested on samples it never trained on (its held-out accuracy
    was measured, not too few samples)"""
    measured, accuracy = log.last("measured"), log.last("accuracy")
    return CheckResult.boolean(measured is not None and accuracy is not None
                               and bool(measured.value))


def blue_for_recyclable(log: EventLog) -> CheckResult:
    """the RGB LED turned blue while the sorter said recyclable"""
    return CheckResult.counting(_lit_for(log, "recyclable"), 1)


def green_for_kitchen(log: EventLog) -> CheckResult:
    """the RGB LED turned green while the sorter said kitchen waste"""
    return CheckResult.counting(_lit_for(log, "kitchen"), 1)


def red_for_hazardous(log: EventLog) -> CheckResult:
    """the RGB LED turned red while the sorter said hazardous"""
    return CheckResult.counting(_lit_for(log, "hazardous"), 1)


def white_for_other(log: EventLog) -> CheckResult:
    """the RGB LED turned white while the sorter said other waste"""
    return CheckResult.counting(_lit_for(log, "other"), 1)
