"""Counting people through a doorway: centroid tracking with ids and a virtual line.

    people = PeopleDetector(Camera())
    door = DoorCounter(people, line=0.5, direction="right", limit=3)
    rgb.source = ...                        # e.g. red while door.full
    print(door.entered.value, door.left.value, door.inside.value)

Each frame's people (their centres, labkit.vision.people) are matched to the tracks of the
frame before, nearest first within `max_distance`; an unmatched person starts a new track with
a new id, and a track nobody matched for `max_missing` frames ends (a detector missing someone
for a frame or two does not make them a new person). Each track has a *side* of the line: the
line is vertical at `line` (a share of the width) when `direction` is right/left, horizontal
(a share of the height) when it is down/up; `direction` is the way in. The side only changes
once the centre is more than `margin` past the line and has stayed there `min_frames` frames,
so a centre wobbling on the line (hysteresis band) counts nothing, and a person who comes up
to the line and turns back counts nothing either. A change to the "in" side is one `entered`,
back again one `left`. Only positions are used: no picture is kept.

The logic (`CentroidTracker`, `LineCounter`) takes plain points, so it is tested on synthetic
tracks and works from any source of positions.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from gpiozero.internal_devices import InternalDevice

from labkit.drivers.signals import Signal, ensure_pin_factory

Point = tuple[float, float]
DIRECTIONS = ("right", "left", "down", "up")


@dataclass
class Track:
    """One person followed across frames (positions normalised 0–1)."""

    id: int
    centre: Point
    missing: int = 0
    side: int = 0            # -1 outside, +1 inside, 0 not yet known
    pending: int = 0         # a side seen but not yet held min_frames
    pending_n: int = 0


class CentroidTracker:
    """Gives each point an id that follows it from frame to frame.

    max_distance   how far (share of the picture) a person may move between two frames
                   (n + 1 times as far after n frames unseen)
    max_missing    frames a track survives without a match
    """

    def __init__(self, max_distance: float = 0.2, max_missing: int = 5) -> None:
        if not 0.0 < max_distance <= 1.5:
            raise ValueError("max_distance must be above 0 and at most 1.5 (a share of the picture)")
        if max_missing < 0:
            raise ValueError("max_missing must be 0 or more frames")
        self.max_distance = float(max_distance)
        self.max_missing = int(max_missing)
        self.tracks: dict[int, Track] = {}
        self._next_id = 1

    def update(self, points: Iterable[Point]) -> tuple[list[Track], list[Track]]:
        """Match this frame's points; returns (the tracks seen in this frame, tracks ended)."""
        pts = [(float(x), float(y)) for x, y in points]
        pairs = sorted((math.dist(t.centre, p), tid, i)
                       for tid, t in self.tracks.items() for i, p in enumerate(pts))
        used_tracks: set[int] = set()
        used_points: set[int] = set()
        seen: list[Track] = []
        for dist, tid, i in pairs:
            # someone unseen for n frames may have walked n + 1 frames' distance
            if dist > self.max_distance * (1 + self.tracks[tid].missing):
                continue
            if tid in used_tracks or i in used_points:
                continue
            used_tracks.add(tid)
            used_points.add(i)
            track = self.tracks[tid]
            track.centre, track.missing = pts[i], 0
            seen.append(track)
        for i, p in enumerate(pts):
            if i not in used_points:
                track = Track(self._next_id, p)
                self._next_id += 1
                self.tracks[track.id] = track
                seen.append(track)
        ended = []
        fresh = {t.id for t in seen}
        for tid in [t for t in self.tracks if t not in fresh]:
            track = self.tracks[tid]
            track.missing += 1
            if track.missing > self.max_missing:
                ended.append(self.tracks.pop(tid))
        return seen, ended

    def reset(self) -> None:
        self.tracks.clear()


class LineCounter:
    """Counts tracks crossing a line: `entered` (in `direction`), `left` (back), `inside`.

    line        where the line is: a share (0–1) of the width (right/left) or height (down/up)
    direction   the way in: right, left, down or up
    margin      how far past the line (share of the picture) a centre must be to be on a side
    min_frames  frames a new side must hold before it counts
    """

    def __init__(self, line: float = 0.5, direction: str = "right", *, margin: float = 0.05,
                 min_frames: int = 2, max_distance: float = 0.2, max_missing: int = 5) -> None:
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {direction!r}; the way in is one of "
                             f"{', '.join(DIRECTIONS)}")
        if not 0.0 < float(line) < 1.0:
            raise ValueError("line must be between 0 and 1 (a share of the picture)")
        if not 0.0 <= float(margin) < 0.5:
            raise ValueError("margin must be at least 0 and below 0.5")
        if int(min_frames) < 1:
            raise ValueError("min_frames must be 1 or more")
        self.line = float(line)
        self.direction = direction
        self.margin = float(margin)
        self.min_frames = int(min_frames)
        self.tracker = CentroidTracker(max_distance, max_missing)
        self.entered = 0
        self.left = 0
        self.inside = 0
        #: (track id, "in" | "out") for every crossing, oldest first
        self.crossings: list[tuple[int, str]] = []

    def depth(self, point: Point) -> float:
        """How far past the line the point is, towards the inside (negative: outside)."""
        x, y = point
        return {"right": x - self.line, "left": self.line - x,
                "down": y - self.line, "up": self.line - y}[self.direction]

    def zone(self, point: Point) -> int:
        """+1 inside, -1 outside, 0 on the line (within the margin)."""
        d = self.depth(point)
        return 1 if d > self.margin else -1 if d < -self.margin else 0

    def update(self, points: Iterable[Point]) -> list[tuple[int, str]]:
        """Feed one frame's people (normalised centres); returns this frame's crossings."""
        seen, _ = self.tracker.update(points)
        now: list[tuple[int, str]] = []
        for track in seen:
            crossing = self._step(track)
            if crossing:
                now.append((track.id, crossing))
        self.crossings.extend(now)
        return now

    def _step(self, track: Track) -> str | None:
        zone = self.zone(track.centre)
        if zone == 0 or zone == track.side:
            track.pending, track.pending_n = 0, 0
            return None
        if zone != track.pending:
            track.pending, track.pending_n = zone, 0
        track.pending_n += 1
        if track.pending_n < self.min_frames:
            return None
        before, track.side = track.side, zone
        track.pending, track.pending_n = 0, 0
        if before == 0:          # first seen on this side: where they are, not a crossing
            return None
        if zone > 0:
            self.entered += 1
            self.inside += 1
            return "in"
        self.left += 1
        self.inside = max(0, self.inside - 1)   # someone inside before counting began
        return "out"

    def reset(self) -> None:
        self.tracker.reset()
        self.entered = self.left = self.inside = 0
        self.crossings.clear()


class DoorCounter(InternalDevice):
    """A gpiozero-style people counter at a doorway, following a PeopleDetector.

    `value` is how many are inside (entered − left, never below 0: someone already inside
    when counting began may leave); `is_active` while `inside >= limit` (full), so
    `when_activated` fires when the room fills. Sub-devices `entered`, `left`, `inside`, `full`
    for sources and lab signals; `when_entered` / `when_left` (plain callables) on each
    crossing. The detector's result also carries `door` (line, tracks, counts) for the page.

    detector    a PeopleDetector to follow, or None and call `update(points)` yourself
    limit       how many inside make the room full (≥ 1)
    line, direction, margin, min_frames, max_distance, max_missing: see LineCounter
    """

    def __init__(self, detector: Any = None, *, line: float = 0.5, direction: str = "right",
                 limit: int = 3, margin: float = 0.05, min_frames: int = 2,
                 max_distance: float = 0.2, max_missing: int = 5,
                 pin_factory: Any = None) -> None:
        if int(limit) < 1:
            raise ValueError("limit (how many inside make it full) must be 1 or more")
        ensure_pin_factory()
        self.counter = LineCounter(line, direction, margin=margin, min_frames=min_frames,
                                   max_distance=max_distance, max_missing=max_missing)
        self.limit = int(limit)
        self.when_entered: Callable[[], Any] | None = None
        self.when_left: Callable[[], Any] | None = None
        self._lock = threading.Lock()
        self._children: list[Signal] = []
        self._signals: dict[str, Signal] = {}
        self.tracker = detector
        super().__init__(pin_factory=pin_factory)
        self._fire_events(self.pin_factory.ticks(), False)
        if detector is not None:
            self._sig = detector.signal(f"door:{id(self)}", self._follow)
            detector.json_extras.append(self.to_json)

    @property
    def value(self) -> float:
        self._check_open()
        return float(self.counter.inside)

    @property
    def is_active(self) -> bool:
        return self.counter.inside >= self.limit

    def _signal(self, name: str, getter: Callable[[], Any]) -> Signal:
        sig = self._signals.get(name)
        if sig is None or sig.closed:
            sig = Signal(self, getter, name)
            self._signals[name] = sig
            self._children.append(sig)
        return sig

    @property
    def entered(self) -> Signal:
        """How many crossed the line the way in."""
        return self._signal("entered", lambda: self.counter.entered)

    @property
    def left(self) -> Signal:
        """How many crossed the line the way out."""
        return self._signal("left", lambda: self.counter.left)

    @property
    def inside(self) -> Signal:
        """How many are inside now."""
        return self._signal("inside", lambda: self.counter.inside)

    @property
    def full(self) -> Signal:
        """1 while at least `limit` are inside."""
        return self._signal("full", lambda: 1 if self.counter.inside >= self.limit else 0)

    def _follow(self, result: Any) -> int:
        # called by the detector after each result (through a sub-signal), once per frame
        if result is not None:
            w, h = max(1, result.width), max(1, result.height)
            self.update([(p.centre[0] / w, p.centre[1] / h) for p in result.people])
        return self.counter.inside

    def update(self, points: Iterable[Point]) -> list[tuple[int, str]]:
        """Feed one frame's people (centres normalised 0–1); returns its crossings."""
        with self._lock:
            crossings = self.counter.update(points)
        if crossings:
            for child in list(self._children):
                child._refresh()
            for _, way in crossings:
                call = self.when_entered if way == "in" else self.when_left
                if call is not None:
                    call()
            self._fire_events(self.pin_factory.ticks(), self.is_active)
        return crossings

    def to_json(self) -> dict[str, Any]:
        c = self.counter
        return {"door": {
            "line": c.line, "direction": c.direction, "margin": c.margin,
            "entered": c.entered, "left": c.left, "inside": c.inside, "limit": self.limit,
            "tracks": [{"id": t.id, "centre": [round(v, 4) for v in t.centre], "side": t.side}
                       for t in c.tracker.tracks.values() if t.missing == 0]}}

    def reset(self) -> None:
        with self._lock:
            self.counter.reset()
        for child in list(self._children):
            child._refresh()
        self._fire_events(self.pin_factory.ticks(), False)

    def close(self) -> None:
        sig = getattr(self, "_sig", None)
        if sig is not None:
            sig.close()
        tracker = getattr(self, "tracker", None)
        if tracker is not None and self.to_json in tracker.json_extras:
            tracker.json_extras.remove(self.to_json)
        for child in list(self.__dict__.get("_children", ())):
            child.close()
        super().close()
