"""Checks of the magic mirror: how many different backgrounds the child stood in front of.

The mirror stream announces each new background once it has composited a frame with a person
in it (`mirror.replaced`, labkit/web/mirror.py); the lab logs those as `replaced`.
"""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog


def two_pictures(log: EventLog) -> CheckResult:
    """the background was replaced with two different pictures"""
    pictures = {e.value.get("picture") for e in log.entries("replaced") if isinstance(e.value, dict)}
    return CheckResult.counting(len(pictures - {None}), 2)
