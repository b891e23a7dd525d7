"""Wall-clock timestamps that a clock jump cannot reorder.

A Pi has no real-time clock: it boots at the last saved time and NTP (when a network exists
at all) may move the clock by months, and a teacher may set it by hand. Durations, checks
("held for 3 s") and the order of a run's steps must not change when that happens. So the kit
reads the wall clock once per process and counts from there with the monotonic clock: stamps
still look like dates (for the portfolio), but they only ever move forward at the real pace.
"""

from __future__ import annotations

import time

_ANCHOR = time.time() - time.monotonic()


def now() -> float:
    """Seconds since the epoch, as the wall clock said at start plus steady time since."""
    return _ANCHOR + time.monotonic()
