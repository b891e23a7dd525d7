"""Checks of the PE assessment lab the vocabulary cannot say: the student chose one exercise
(jumping jacks or sit-ups), so each step passes on either."""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog
from labkit.projects.vocabulary import follows

ATTEMPT_UP = 50.0      # arms lifted past this (degrees at the shoulder): a movement began
ATTEMPT_DOWN = 35.0    # and back below this: it ended

#: exercise → (its count signal, its "good form now" signal)
EXERCISES = {"jumping_jack": ("jack_count", "open"), "sit_up": ("situp_count", "up")}


def _attempts(log: EventLog) -> int:
    """Jumping-jack movements started: the shoulder angle going above ATTEMPT_UP, then back
    down."""
    n, up = 0, False
    for e in log.entries("arm"):
        if not isinstance(e.value, (int, float)):
            continue
        if not up and e.value > ATTEMPT_UP:
            n, up = n + 1, True
        elif up and e.value < ATTEMPT_DOWN:
            up = False
    return n


def _highest(log: EventLog, name: str) -> int:
    values = [e.value for e in log.entries(name)
              if isinstance(e.value, (int, float)) and not isinstance(e.value, bool)]
    return int(max(values)) if values else 0


def _best(results: list[CheckResult]) -> CheckResult:
    return max(results, key=lambda r: (r.passed, r.count))


def three_reps(log: EventLog) -> CheckResult:
    """three or more reps of the chosen exercise were counted"""
    return _best([CheckResult.counting(_highest(log, count), 3)
                  for count, _form in EXERCISES.values()])


def form_light(log: EventLog) -> CheckResult:
    """the good-form light came on with three reps of the chosen exercise"""
    return _best([follows(log, "led", form, times=3) for _count, form in EXERCISES.values()])


def half_reps_not_counted(log: EventLog) -> CheckResult:
    """at least two movements with poor form were not counted"""
    jacks = _highest(log, "jack_count")
    jack_half = max(0, _attempts(log) - jacks) if jacks else 0
    situps = _highest(log, "situp_count")
    situp_half = max(0, _highest(log, "situp_attempts") - situps) if situps else 0
    return CheckResult.counting(max(jack_half, situp_half), 2)
