"""The bias lab's comparison: a reading that needed water which the model trained on the
skewed examples missed (LED off) and the one trained on balanced examples caught (RGB green).
The LED is logged 0/1, the RGB LED as [r, g, b]."""

from __future__ import annotations

from typing import Any

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog, count_overlapping


def _green(value: Any) -> bool:
    try:
        return [round(float(v)) for v in value] == [0, 1, 0]
    except (TypeError, ValueError):
        return False


def skewed_missed_what_balanced_caught(log: EventLog) -> CheckResult:
    """twice, the balanced model said water while the skewed one said wait"""
    led_off = log.intervals("led", lambda v: not v)
    return CheckResult.counting(count_overlapping(log.intervals("rgb", _green), led_off,
                                                  min_seconds=0.5), 2)
