"""Checks of teach the kit: the child's model answered with both things it was taught.

The page asks /learn for a prediction ("What do you see?"); each answer is a `learn.prediction`
event, logged here as `guessed` ({label, confidence, …}).
"""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog


def both_answers(log: EventLog) -> CheckResult:
    """the kit answered with each of the two things at least once"""
    labels = {e.value.get("label") for e in log.entries("guessed") if isinstance(e.value, dict)}
    return CheckResult.counting(len(labels - {None, ""}), 2)
