"""The nearest-neighbours lab's comparison: a reading where the two learners disagree (the LED
follows k nearest neighbours, the pump the decision tree; both are logged 0/1)."""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog, count_overlapping


def knn_and_tree_disagreed(log: EventLog) -> CheckResult:
    """a reading where k nearest neighbours said water and the tree said wait"""
    led_on = log.intervals("led")
    pump_off = log.intervals("pump", lambda v: not v)
    return CheckResult.counting(count_overlapping(led_on, pump_off, min_seconds=0.5), 1)
