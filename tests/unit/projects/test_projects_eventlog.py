"""The event log and the interval arithmetic checks are built from."""

from __future__ import annotations

import pytest

from labkit.projects.eventlog import EventLog, complement, count_overlapping, overlap


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_state_is_recorded_only_on_change() -> None:
    log = EventLog(clock=Clock())
    assert log.record_state("hw", "led", 0.0, ts=1) is not None
    assert log.record_state("hw", "led", 0.0, ts=2) is None
    assert log.record_state("hw", "led", 1.0, ts=3) is not None
    assert [e.ts for e in log.entries("led")] == [1, 3]
    assert log.last("led").value == 1.0 and log.value_at("led", 2.5) == 0.0
    assert log.value_at("led", 0.5, default="?") == "?"


def test_intervals_rises_and_open_interval_closed_at_now() -> None:
    clock = Clock()
    log = EventLog(clock=clock)
    for ts, v in [(1, 0), (2, 1), (4, 0), (6, 1)]:
        log.record("hw", "led", v, ts=ts)
    clock.t = 10
    assert log.intervals("led") == [(2, 4), (6, 10)]
    assert log.rises("led") == [2, 6]
    assert log.intervals("led", active=lambda v: v == 0) == [(1, 2), (4, 6)]


def test_rgb_lists_count_as_on_when_any_channel_is_on() -> None:
    log = EventLog(clock=Clock())
    log.record("hw", "rgb", [0, 0, 0], ts=1)
    log.record("hw", "rgb", [0, 0.5, 0], ts=2)
    log.record("hw", "rgb", [0, 0, 0], ts=3)
    assert log.intervals("rgb") == [(2, 3)]


def test_overlap_helpers() -> None:
    assert overlap((0, 2), (1, 5)) == 1 and overlap((0, 1), (2, 3)) == 0
    led = [(1, 3), (5, 5.1), (8, 9)]
    face = [(0.9, 3.2), (5, 6), (10, 11)]
    assert count_overlapping(led, face) == 2
    assert count_overlapping(led, face, min_seconds=0.2) == 1
    assert complement([(1, 2), (4, 5)], 0, 6) == [(0, 1), (2, 4), (5, 6)]
    assert complement([], 0, 3) == [(0, 3)]


def test_unknown_source_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        EventLog().record("camera", "x", 1)


def test_listeners_see_every_entry() -> None:
    seen = []
    log = EventLog()
    log.subscribe(seen.append)
    log.record_state("model", "face", True)
    log.record_state("model", "face", True)
    log.record("model", "word", "开灯")
    assert [(e.name, e.value) for e in seen] == [("face", True), ("word", "开灯")]
