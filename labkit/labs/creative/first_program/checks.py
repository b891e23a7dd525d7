"""Checks of the first-program lab the vocabulary cannot say: what happened while one of the
student's blocks programs was running (the `program` entries are the code page's
`code.program` events: started / ended, and whether the program came from blocks)."""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog, Interval, overlap

MIN_S = 0.2


def _blocks_runs(log: EventLog) -> list[Interval]:
    """The periods during which a program made with blocks was running."""
    runs: list[Interval] = []
    start: float | None = None
    for entry in log.entries("program"):
        data = entry.value if isinstance(entry.value, dict) else {}
        if data.get("state") == "started":
            start = entry.ts if data.get("blocks") is True else None
        elif data.get("state") == "ended" and start is not None:
            runs.append((start, entry.ts))
            start = None
    if start is not None:
        runs.append((start, log.clock()))
    return runs


def blocks_program_lit_led(log: EventLog) -> CheckResult:
    """a program made with blocks lit the LED"""
    lit = log.intervals("led")
    return CheckResult.boolean(any(overlap(run, on) >= MIN_S
                                   for run in _blocks_runs(log) for on in lit))
