"""Checks of the talking robot: which sentences the child made the kit say, and how.

Each sentence said from the talk panel is logged as `said` (the `audio.said` event of
POST /api/audio/say with purpose "talk"): its language, speed, pitch and a digest of the
sentence — the text itself is not kept. Saying the same sentence twice counts once.
"""

from __future__ import annotations

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog

DEFAULT_SPEED, DEFAULT_PITCH = 150, 50


def _said(log: EventLog) -> list[dict]:
    return [e.value for e in log.entries("said") if isinstance(e.value, dict)]


def two_sentences(log: EventLog) -> CheckResult:
    """the kit said two different sentences"""
    return CheckResult.counting(len({s.get("sentence") for s in _said(log)}), 2)


def both_languages(log: EventLog) -> CheckResult:
    """the kit spoke in Chinese and in English"""
    langs = {str(s.get("lang", "")).split("_")[0] for s in _said(log)}
    return CheckResult.counting(len(langs & {"zh", "en"}), 2)


def changed_voice(log: EventLog) -> CheckResult:
    """a sentence was said at another speed and another pitch"""
    speed = any(s.get("speed", DEFAULT_SPEED) != DEFAULT_SPEED for s in _said(log))
    pitch = any(s.get("pitch", DEFAULT_PITCH) != DEFAULT_PITCH for s in _said(log))
    return CheckResult.counting(int(speed) + int(pitch), 2)
