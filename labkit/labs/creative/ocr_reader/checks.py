"""Checks of the reading-machine lab the vocabulary cannot say."""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog

HOLD_S = 3.0


def no_repeats(log: EventLog) -> CheckResult:
    """a card held still for 3 s was read aloud exactly once"""
    reads = [e.ts for e in log.entries("read_count")
             if isinstance(e.value, (int, float)) and e.value > 0]
    for start, end in log.intervals("text_seen"):
        if end - start >= HOLD_S and sum(start <= t <= end for t in reads) == 1:
            return CheckResult.boolean(True)
    return CheckResult.boolean(False)
