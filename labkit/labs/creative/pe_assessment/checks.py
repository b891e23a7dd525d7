"""Checks of the PE assessment lab the vocabulary cannot say."""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog

ATTEMPT_UP = 50.0      # arms lifted past this (degrees at the shoulder): a movement began
ATTEMPT_DOWN = 35.0    # and back below this: it ended


def _attempts(log: EventLog) -> int:
    """Movements started: the shoulder angle going above ATTEMPT_UP, then back down."""
    n, up = 0, False
    for e in log.entries("arm"):
        if not isinstance(e.value, (int, float)):
            continue
        if not up and e.value > ATTEMPT_UP:
            n, up = n + 1, True
        elif up and e.value < ATTEMPT_DOWN:
            up = False
    return n


def half_reps_not_counted(log: EventLog) -> CheckResult:
    """at least two movements with poor form were not counted"""
    counts = [e.value for e in log.entries("jack_count") if isinstance(e.value, (int, float))]
    reps = int(max(counts)) if counts else 0
    return CheckResult.counting(max(0, _attempts(log) - reps) if reps else 0, 2)
