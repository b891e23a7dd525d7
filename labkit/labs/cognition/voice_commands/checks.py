"""The voice-commands lab's fair test: the class ran enough trials of both kinds — real
commands and other speech — for the hit rate and the false-trigger rate the page shows
(labkit/projects/trials.py computes both from the same `trial` entries)."""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog
from labkit.projects.trials import MIN_TRIALS, figures


def enough_trials(log: EventLog) -> CheckResult:
    """at least 5 trials of real commands and 5 of other speech"""
    f = figures(log.entries("trial"))
    done = min(f["command"]["trials"], MIN_TRIALS) + min(f["other"]["trials"], MIN_TRIALS)
    return CheckResult.counting(done, 2 * MIN_TRIALS)
