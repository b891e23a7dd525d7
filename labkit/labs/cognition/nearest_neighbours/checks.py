"""The nearest-neighbours lab's checks the vocabulary cannot say: a reading where the two
learners disagree (the LED follows k nearest neighbours, the pump the decision tree; both are
logged 0/1), and what the class did on the plot — its own labelled points and other values of
k (the `knn` entries logged by the neighbours part, labkit/projects/lab.py part_input)."""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog, count_overlapping


def knn_and_tree_disagreed(log: EventLog) -> CheckResult:
    """a reading where k nearest neighbours said water and the tree said wait"""
    led_on = log.intervals("led")
    pump_off = log.intervals("pump", lambda v: not v)
    return CheckResult.counting(count_overlapping(led_on, pump_off, min_seconds=0.5), 1)


def own_points(log: EventLog) -> CheckResult:
    """the class labelled at least 2 readings of each label (water and wait)"""
    added = [e.value for e in log.entries("knn")
             if isinstance(e.value, dict) and e.value.get("action") == "add"]
    per_label = [sum(1 for v in added if v.get("label") == label) for label in (0, 1)]
    return CheckResult.counting(sum(min(n, 2) for n in per_label), 4)


def tried_k(log: EventLog) -> CheckResult:
    """k was changed to at least two values other than 3"""
    ks = {e.value.get("k") for e in log.entries("knn")
          if isinstance(e.value, dict) and e.value.get("action") == "k"}
    return CheckResult.counting(len(ks - {3}), 2)
