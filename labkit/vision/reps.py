"""Counting exercise repetitions from body pose — squats, jumping jacks, arm raises, sit-ups —
for AI + PE lessons.

    pose = PoseTracker(Camera())
    squats = RepCounter(pose, "squat")
    squats.when_rep = buzzer.beep          # a beep for every squat
    print(squats.value)                    # reps so far

A rep is one full cycle *rest → active → rest* (standing → squatting → standing). The two
states have separate thresholds with a gap between them (hysteresis), and a state must hold for
`min_frames` frames before it counts, so a jittery knee angle near one threshold cannot count
twice. Frames where the needed joints are not visible change nothing.

Everything runs on a dict of measures (`knee`, `shoulder`, `elbow`, `hip` angles in degrees,
both sides averaged, `spread` = ankle distance / shoulder width, and `trunk` = how far the
hip→shoulder line stands above the horizontal: 0° lying, 90° upright, seen from the side or
the front), so the logic is tested on synthetic angle sequences and works from any source of
those numbers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

import numpy as np
from gpiozero.internal_devices import InternalDevice

from labkit.drivers.signals import ensure_pin_factory

Measures = Mapping[str, float | None]

#: a sit-up's thresholds (degrees of the trunk above the horizontal), the lesson's rule
SIT_UP_UP = 60.0
SIT_UP_DOWN = 20.0
SIT_UP_START = 25.0


@dataclass(frozen=True)
class Exercise:
    """An exercise: when a frame is 'active' (e.g. squatting) and when it is 'rest'.

    Each test returns True/False, or None when the measures it needs are missing."""

    name: str
    needs: tuple[str, ...]
    active: Callable[[Measures], bool]
    rest: Callable[[Measures], bool]
    #: a movement has begun (well short of `active`): every rep is one, and so is a half one
    started: Callable[[Measures], bool] | None = None
    #: nothing counts until `rest` has been seen: a child who stands (trunk upright) and then
    #: lies down has not done a sit-up
    from_rest: bool = False


EXERCISES: dict[str, Exercise] = {
    # knees bent below 100° = down; straight above 155° = up
    # (a movement: knees bent below 140°)
    "squat": Exercise("squat", ("knee",), lambda m: m["knee"] < 100.0,
                      lambda m: m["knee"] > 155.0, lambda m: m["knee"] < 140.0),
    # arms up past 140° at the shoulder; back down below 45° (a movement: above 60°)
    "arm_raise": Exercise("arm_raise", ("shoulder",), lambda m: m["shoulder"] > 140.0,
                          lambda m: m["shoulder"] < 45.0, lambda m: m["shoulder"] > 60.0),
    # arms up and feet apart; arms down and feet together (a movement: arms above 60°)
    "jumping_jack": Exercise(
        "jumping_jack", ("shoulder", "spread"),
        lambda m: m["shoulder"] > 120.0 and m["spread"] > 1.6,
        lambda m: m["shoulder"] < 50.0 and m["spread"] < 1.25,
        lambda m: m["shoulder"] > 60.0),
    # seen from the side: the trunk up past 60° above the floor; back down to lying, below
    # 20° (a movement: the trunk lifted past 25°, so a half sit-up is one)
    "sit_up": Exercise("sit_up", ("trunk",), lambda m: m["trunk"] > SIT_UP_UP,
                       lambda m: m["trunk"] < SIT_UP_DOWN, lambda m: m["trunk"] > SIT_UP_START,
                       from_rest=True),
}


def measures(pose: Any) -> dict[str, float | None]:
    """A Pose → the numbers the exercises use (None where joints are not visible)."""
    out: dict[str, float | None] = {}
    for joint in ("knee", "shoulder", "elbow", "hip"):
        values = [pose.angles.get(f"{side}_{joint}") for side in ("left", "right")]
        values = [v for v in values if v is not None]
        out[joint] = float(np.mean(values)) if values else None
    names = ("left_ankle", "right_ankle", "left_shoulder", "right_shoulder")
    if all(pose.visible(n) for n in names):
        ankles = np.subtract(pose.point("left_ankle"), pose.point("right_ankle"))
        shoulders = np.subtract(pose.point("left_shoulder"), pose.point("right_shoulder"))
        width = float(np.linalg.norm(shoulders))
        out["spread"] = float(np.linalg.norm(ankles)) / width if width > 1e-6 else None
    else:
        out["spread"] = None
    out["trunk"] = _trunk(pose)
    return out


def _trunk(pose: Any) -> float | None:
    """Degrees of the hip→shoulder line above the horizontal (0 lying, 90 upright), from the
    visible shoulders and hips (a side view may show one of each); None without both."""
    ends = []
    for joint in ("shoulder", "hip"):
        seen = [pose.point(f"{side}_{joint}") for side in ("left", "right")
                if pose.visible(f"{side}_{joint}")]
        if not seen:
            return None
        ends.append(np.mean(seen, axis=0))
    dx, dy = np.subtract(ends[0], ends[1])
    if abs(dx) < 1e-6 and abs(dy) < 1e-6:
        return None
    return float(np.degrees(np.arctan2(-dy, abs(dx))))


class RepCounter(InternalDevice):
    """Counts reps of an exercise. `value` = reps so far; `is_active` while in the active
    phase (e.g. down in a squat), so `when_activated` fires at each squat's bottom; `when_rep`
    (a plain callable) is called when a rep completes. `attempts` counts movements begun and
    ended back at rest, counted or not: `value / attempts` is the share done with good form.

    tracker     a PoseTracker to follow (its every result updates the count), or None and
                call `update(measures)` / `update_pose(pose)` yourself
    exercise    "squat", "jumping_jack", "arm_raise", "sit_up" or an Exercise
    min_frames  frames a new state must hold before it counts (debounce)
    """

    def __init__(self, tracker: Any = None, exercise: str | Exercise = "squat", *,
                 min_frames: int = 2, pin_factory: Any = None) -> None:
        if isinstance(exercise, str):
            if exercise not in EXERCISES:
                raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")
            exercise = EXERCISES[exercise]
        ensure_pin_factory()
        self.exercise = exercise
        self.min_frames = max(1, int(min_frames))
        self.reps = 0
        self.attempts = 0
        self.state = self._first_state()
        self._moving = False
        self._moving_n = 0
        self._pending: str | None = None
        self._pending_n = 0
        self._lock = threading.Lock()
        self.when_rep: Callable[[], Any] | None = None
        self.tracker = tracker
        super().__init__(pin_factory=pin_factory)
        self._fire_events(self.pin_factory.ticks(), False)
        if tracker is not None:
            self._sig = tracker.signal(f"reps:{id(self)}", self._follow)

    def _first_state(self) -> str:
        """"rest", or "waiting" (for the first rest) for an exercise counted `from_rest`."""
        return "waiting" if self.exercise.from_rest else "rest"

    @property
    def value(self) -> float:
        self._check_open()
        return float(self.reps)

    @property
    def is_active(self) -> bool:
        return self.state == "active"

    @property
    def active_values(self) -> Iterator[bool]:
        """`is_active`, frame after frame, as gpiozero's `values` streams the count: so two
        counters can share one output (`led.source = any_values(a.active_values,
        b.active_values)`)."""
        while not self.closed:
            yield self.is_active

    def angle(self, joint: str) -> Any:
        """The followed tracker's joint angle signal (e.g. 'left_knee'), so a lab that counts
        reps can also judge form without running a second pose model."""
        if self.tracker is None:
            raise ValueError("this counter follows no tracker: it has no angles")
        return self.tracker.angle(joint)

    def _follow(self, result: Any) -> int:
        # called by the tracker after each result (through a sub-signal), once per frame
        if result is not None and getattr(result, "best", None) is not None:
            self.update_pose(result.best)
        return self.reps

    def update_pose(self, pose: Any) -> int:
        return self.update(measures(pose))

    def update(self, m: Measures) -> int:
        """Feed one frame's measures; returns the rep count."""
        if any(m.get(k) is None for k in self.exercise.needs):
            return self.reps
        with self._lock:
            if self.state != "waiting":
                self._follow_attempt(m)
            if self.exercise.active(m):
                seen = "active"
            elif self.exercise.rest(m):
                seen = "rest"
            else:
                seen = None   # in the gap between thresholds: keep the current state
            if seen is None or seen == self.state or (self.state == "waiting" and seen != "rest"):
                self._pending, self._pending_n = None, 0
                return self.reps
            if seen != self._pending:
                self._pending, self._pending_n = seen, 0
            self._pending_n += 1
            if self._pending_n < self.min_frames:
                return self.reps
            completed = seen == "rest" and self.state == "active"
            self.state, self._pending, self._pending_n = seen, None, 0
            if completed:
                self.reps += 1
        self._fire_events(self.pin_factory.ticks(), self.state == "active")
        if completed and self.when_rep is not None:
            self.when_rep()
        return self.reps

    def _follow_attempt(self, m: Measures) -> None:
        """A movement begins on the first frame `started` holds — a half movement may show it
        for one frame only, and the gap between `started` and `rest` keeps a jittery angle
        from counting twice — and ends when `rest` has held `min_frames` frames. It is counted
        when it begins, so the reps are never more than the attempts."""
        started = self.exercise.started
        if started is None:
            return
        if not self._moving:
            if started(m):
                self._moving, self._moving_n = True, 0
                self.attempts += 1
        elif self.exercise.rest(m):
            self._moving_n += 1
            if self._moving_n >= self.min_frames:
                self._moving, self._moving_n = False, 0
        else:
            self._moving_n = 0

    def reset(self) -> None:
        with self._lock:
            self.reps, self.state, self._pending, self._pending_n = 0, self._first_state(), None, 0
            self.attempts, self._moving, self._moving_n = 0, False, 0

    def close(self) -> None:
        sig = getattr(self, "_sig", None)
        if sig is not None:
            sig.close()
        super().close()
