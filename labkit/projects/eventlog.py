"""A lab's event log: what the hardware and the models did, with timestamps.

Checks are written against this log, not against live device objects, so a check is a small
pure function ("was the LED on while a face was visible, 3 times?") that a test can feed with
a hand-made log, and that gives the same answer in simulation and on a real kit. Hardware
entries come from the virtual bench's `bench.state` changes (whatever drives a pin shows up);
model entries come from the lab's `step()` (`ctx.signal("face", True)`).

State-like signals are recorded only when they change, so the log stays small: a 45-minute
lesson at 15 frames per second produces hundreds of entries, not tens of thousands.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from labkit import steady

SOURCES = ("hw", "model", "input", "note")
Interval = tuple[float, float]


@dataclass(frozen=True)
class LogEntry:
    ts: float
    source: str
    name: str
    value: Any


def _truthy(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_truthy(v) for v in value)
    return bool(value)


class EventLog:
    """Timestamped entries, thread-safe, bounded; with the queries checks need."""

    def __init__(self, maxlen: int = 20000, clock: Callable[[], float] = steady.now) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=maxlen)
        self._last: dict[str, LogEntry] = {}
        self._lock = threading.Lock()
        self._listeners: list[Callable[[LogEntry], None]] = []
        self.clock = clock
        self.version = 0

    def subscribe(self, listener: Callable[[LogEntry], None]) -> None:
        """Call `listener(entry)` for every new entry (used to stream signals to the page)."""
        self._listeners.append(listener)

    # ---- writing --------------------------------------------------------------------------
    def record(self, source: str, name: str, value: Any, ts: float | None = None) -> LogEntry:
        """Append an entry, whether or not the value changed (a one-off event)."""
        if source not in SOURCES:
            raise ValueError(f"unknown log source {source!r}")
        entry = LogEntry(self.clock() if ts is None else ts, source, name, value)
        with self._lock:
            self._entries.append(entry)
            self._last[name] = entry
            self.version += 1
        for listener in list(self._listeners):
            listener(entry)
        return entry

    def record_state(self, source: str, name: str, value: Any,
                     ts: float | None = None) -> LogEntry | None:
        """Append only if `name` changed since its last entry; returns the entry or None."""
        with self._lock:
            last = self._last.get(name)
        if last is not None and last.value == value:
            return None
        return self.record(source, name, value, ts)

    # ---- reading --------------------------------------------------------------------------
    def entries(self, name: str | None = None, source: str | None = None) -> list[LogEntry]:
        with self._lock:
            items = list(self._entries)
        return [e for e in items
                if (name is None or e.name == name) and (source is None or e.source == source)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def last(self, name: str) -> LogEntry | None:
        with self._lock:
            return self._last.get(name)

    def latest(self, source: str) -> dict[str, Any]:
        """Each name's latest value among the entries of `source` (e.g. every model signal)."""
        with self._lock:
            return {name: e.value for name, e in self._last.items() if e.source == source}

    def value_at(self, name: str, ts: float, default: Any = None) -> Any:
        """The value `name` had at time `ts` (its latest entry at or before it)."""
        value = default
        for e in self.entries(name):
            if e.ts > ts:
                break
            value = e.value
        return value

    def intervals(self, name: str, active: Callable[[Any], bool] = _truthy,
                  until: float | None = None) -> list[Interval]:
        """Periods during which `active(value)` held, e.g. when the LED was on.

        A period still going on is closed at `until` (default: now).
        """
        out: list[Interval] = []
        start: float | None = None
        for e in self.entries(name):
            on = active(e.value)
            if on and start is None:
                start = e.ts
            elif not on and start is not None:
                out.append((start, e.ts))
                start = None
        if start is not None:
            out.append((start, self.clock() if until is None else until))
        return out

    def rises(self, name: str, active: Callable[[Any], bool] = _truthy) -> list[float]:
        """When `active(value)` turned true (the starts of `intervals`)."""
        return [start for start, _end in self.intervals(name, active)]

    def count(self, name: str) -> int:
        return len(self.entries(name))


def overlap(a: Interval, b: Interval) -> float:
    """Seconds two intervals share (0 if they do not meet)."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def count_overlapping(intervals: Iterable[Interval], others: Iterable[Interval],
                      min_seconds: float = 0.0) -> int:
    """How many of `intervals` share at least `min_seconds` with one of `others`.

    Used for "the LED was on while a face was visible": each LED-on period counts once,
    however the face came and went inside it.
    """
    others = list(others)
    n = 0
    for a in intervals:
        if any(overlap(a, b) >= min_seconds and overlap(a, b) > 0 for b in others):
            n += 1
    return n


def complement(intervals: list[Interval], start: float, end: float) -> list[Interval]:
    """The gaps between `intervals` within [start, end] (e.g. when no face was visible)."""
    out: list[Interval] = []
    t = start
    for a, b in sorted(intervals):
        if a > t:
            out.append((t, min(a, end)))
        t = max(t, b)
    if t < end:
        out.append((t, end))
    return [i for i in out if i[1] > i[0]]
