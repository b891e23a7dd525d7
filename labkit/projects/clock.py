"""The runner's clock: real time for a class, simulated time for demos and tests.

A lab's checks only read timestamps from the event log, so a scripted demo can run on a
`SimClock` that jumps forward one frame at a time: the real detectors still run on every frame,
only the waiting between frames is skipped. `labkit run LAB --demo` and the tests play a 20 s
scenario in a few seconds this way, and so does the page's "Quick demo" (a SimClock of the
run's own); the page's "Demo" button uses the real clock.
"""

from __future__ import annotations

import threading
import time

from labkit import steady


class RealClock:
    """Wall-clock seconds that a clock jump cannot move (labkit/steady.py); `sleep` really
    waits (and wakes on `stop`)."""

    simulated = False

    def now(self) -> float:
        return steady.now()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        if stop is not None:
            stop.wait(max(0.0, seconds))
        elif seconds > 0:
            time.sleep(seconds)

    __call__ = now


class SimClock:
    """Simulated seconds starting at `start`; `sleep` advances time at once."""

    simulated = True

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._t += max(0.0, float(seconds))
            return self._t

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        self.advance(seconds)

    __call__ = now
