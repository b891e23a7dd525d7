"""The door counter on synthetic tracks: ids across frames, crossings of the line in both
directions, turning back, jitter on the line, detector misses, the gpiozero surface."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pytest

from labkit.vision.linecount import CentroidTracker, DoorCounter, LineCounter

Frame = list[tuple[float, float]]


def walk(x0: float, x1: float, frames: int, y: float = 0.6) -> list[tuple[float, float]]:
    """A centre going from x0 to x1 in a straight line."""
    return [(float(x), y) for x in np.linspace(x0, x1, frames)]


def frames_of(*paths: list[tuple[float, float]], start: Iterable[int] = ()) -> list[Frame]:
    """Several people's paths as frames; `start[i]` delays path i by that many frames."""
    delays = list(start) + [0] * (len(paths) - len(list(start)))
    length = max(d + len(p) for d, p in zip(delays, paths, strict=True))
    out: list[Frame] = []
    for f in range(length):
        out.append([p[f - d] for d, p in zip(delays, paths, strict=True) if 0 <= f - d < len(p)])
    return out


def feed(counter: LineCounter | DoorCounter, frames: list[Frame]) -> list[tuple[int, str]]:
    crossings = []
    for frame in frames:
        crossings += counter.update(frame)
    return crossings


def test_two_people_crossing_in_opposite_directions_at_once() -> None:
    """One walks in (left → right), the other out, passing each other on the line: each keeps
    its own id and each is counted once, the right way."""
    counter = LineCounter(0.5, "right")
    crossings = feed(counter, frames_of(walk(0.1, 0.9, 25, y=0.4), walk(0.9, 0.1, 25, y=0.7)))
    assert (counter.entered, counter.left) == (1, 1)
    assert sorted(way for _, way in crossings) == ["in", "out"]
    assert len({tid for tid, _ in crossings}) == 2


def test_two_people_walking_in_one_after_the_other() -> None:
    counter = LineCounter(0.5, "right")
    feed(counter, frames_of(walk(0.05, 0.95, 20), walk(0.05, 0.95, 20), start=[0, 12]))
    assert (counter.entered, counter.left, counter.inside) == (2, 0, 2)


def test_one_turning_back_before_the_line_is_not_counted() -> None:
    counter = LineCounter(0.5, "right")
    feed(counter, [[p] for p in walk(0.1, 0.47, 12) + walk(0.47, 0.1, 12)])
    assert (counter.entered, counter.left) == (0, 0)
    # and one who steps over, then back out again, is one in and one out (nobody stays inside)
    counter.reset()
    feed(counter, [[p] for p in walk(0.1, 0.7, 12) + walk(0.7, 0.1, 12)])
    assert (counter.entered, counter.left, counter.inside) == (1, 1, 0)


def test_jitter_on_the_line_is_not_double_counted() -> None:
    """Someone stops on the line and wobbles (centre noise, one-frame spikes past the margin)
    before walking on: one entry."""
    rng = np.random.default_rng(3)
    wobble = [(0.5 + float(rng.normal(0, 0.02)), 0.6) for _ in range(40)]
    spikes = [(0.58, 0.6), (0.5, 0.6), (0.42, 0.6), (0.5, 0.6)] * 3   # single frames past it
    path = walk(0.1, 0.5, 10) + wobble + spikes + walk(0.5, 0.9, 10)
    counter = LineCounter(0.5, "right")
    crossings = feed(counter, [[p] for p in path])
    assert crossings == [(1, "in")]
    assert (counter.entered, counter.left, counter.inside) == (1, 0, 1)


def test_jitter_counts_without_hysteresis() -> None:
    """The margin and min_frames are what stop the double count: with neither, the same
    wobble crosses many times (so the test above can fail)."""
    path = walk(0.1, 0.5, 10) + [(0.52, 0.6), (0.48, 0.6)] * 6 + walk(0.5, 0.9, 10)
    counter = LineCounter(0.5, "right", margin=0.0, min_frames=1)
    feed(counter, [[p] for p in path])
    assert counter.entered > 1


def test_a_person_the_detector_misses_for_a_few_frames_keeps_their_id() -> None:
    path = walk(0.1, 0.9, 24)
    frames: list[Frame] = [[p] for p in path]
    for i in (10, 11, 12, 13):        # lost right on the line
        frames[i] = []
    counter = LineCounter(0.5, "right", max_missing=5)
    crossings = feed(counter, frames)
    assert crossings == [(1, "in")]


def test_a_fast_walker_missed_for_frames_is_still_the_same_person() -> None:
    """0.12 a frame and lost for three frames on the line: 0.48 between two sightings is more
    than max_distance, but not more than four frames' worth of it."""
    frames: list[Frame] = [[p] for p in walk(0.02, 0.98, 9)]
    for i in (3, 4, 5):
        frames[i] = []
    counter = LineCounter(0.5, "right", max_distance=0.15)
    assert feed(counter, frames) == [(1, "in")]


def test_someone_first_seen_inside_and_leaving_counts_out_but_inside_stays_at_zero() -> None:
    counter = LineCounter(0.5, "right")
    feed(counter, [[p] for p in walk(0.9, 0.1, 20)])
    assert (counter.entered, counter.left, counter.inside) == (0, 1, 0)


@pytest.mark.parametrize("direction,path,way", [
    ("left", walk(0.9, 0.1, 20), "in"),
    ("down", [(0.5, float(y)) for y in np.linspace(0.1, 0.9, 20)], "in"),
    ("up", [(0.5, float(y)) for y in np.linspace(0.1, 0.9, 20)], "out"),
])
def test_the_way_in_is_configurable(direction: str, path: list[tuple[float, float]],
                                    way: str) -> None:
    counter = LineCounter(0.3, direction)
    assert [w for _, w in feed(counter, [[p] for p in path])] == [way]


def test_the_line_position_matters() -> None:
    """A walk from 0.1 to 0.6 crosses a line at 0.4 but not one at 0.8."""
    path = [[p] for p in walk(0.1, 0.6, 15)]
    assert feed(LineCounter(0.4, "right"), path) and not feed(LineCounter(0.8, "right"), path)


def test_tracker_ids_follow_the_nearest_and_end_after_max_missing() -> None:
    tracker = CentroidTracker(max_distance=0.2, max_missing=1)
    seen, _ = tracker.update([(0.1, 0.5), (0.9, 0.5)])
    first = {t.id: t.centre for t in seen}
    seen, _ = tracker.update([(0.85, 0.5), (0.15, 0.5)])
    assert {t.id: t.centre for t in seen} == {
        tid: (0.15, 0.5) if c[0] < 0.5 else (0.85, 0.5) for tid, c in first.items()}
    tracker.update([])
    _, ended = tracker.update([])
    assert len(ended) == 2 and tracker.tracks == {}
    seen, _ = tracker.update([(0.1, 0.1)])
    assert seen[0].id == 3                           # a new person gets a new id
    seen, _ = tracker.update([(0.6, 0.6)])           # too far to be the same one
    assert seen[0].id == 4


@pytest.mark.parametrize("kwargs,message", [
    ({"direction": "inwards"}, "unknown direction"),
    ({"line": 1.2}, "line must be between 0 and 1"),
    ({"margin": 0.7}, "margin"),
    ({"min_frames": 0}, "min_frames"),
    ({"max_distance": 0}, "max_distance"),
])
def test_bad_settings_are_refused_clearly(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LineCounter(**kwargs)


def test_door_counter_is_a_gpiozero_style_device() -> None:
    door = DoorCounter(None, line=0.5, direction="right", limit=2)
    entered, left, inside, full = door.entered, door.left, door.inside, door.full
    events: list[str] = []
    door.when_entered = lambda: events.append("in")
    door.when_left = lambda: events.append("out")
    door.when_activated = lambda: events.append("full")
    try:
        feed(door, frames_of(walk(0.1, 0.9, 20), walk(0.1, 0.9, 20), start=[0, 10]))
        assert (entered.value, left.value, inside.value, full.value) == (2, 0, 2, 1)
        assert door.value == 2 and door.is_active
        feed(door, [[p] for p in walk(0.9, 0.1, 20)])
        assert (entered.value, left.value, inside.value, full.value) == (2, 1, 1, 0)
        assert not door.is_active
        assert events == ["in", "in", "full", "out"]
        with pytest.raises(ValueError, match="limit"):
            DoorCounter(None, limit=0)
    finally:
        door.close()


@pytest.mark.parametrize("kwargs,message", [
    ({"min_detection": 1.5}, "min_detection"),
    ({"max_people": -1}, "max_people"),
])
def test_people_detector_refuses_bad_settings_before_loading_a_model(kwargs: dict,
                                                                     message: str) -> None:
    from labkit.vision.people import PeopleDetector

    with pytest.raises(ValueError, match=message):
        PeopleDetector(store=object(), **kwargs)
