"""Every check of the vocabulary on hand-written logs, and the language's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from labkit.projects.eventlog import EventLog
from labkit.projects.expr import ExprError
from labkit.projects.vocabulary import compile_check


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def make_log(now: float, **series: list[tuple[float, Any]]) -> EventLog:
    clock = Clock()
    log = EventLog(clock=clock)
    rows = sorted((ts, name, value) for name, points in series.items() for ts, value in points)
    for ts, name, value in rows:
        source = "note" if name == "step" else "model"
        log.record(source, name, value, ts=ts)
    clock.t = now
    return log


def run(check: str, log: EventLog) -> tuple[bool, float]:
    result = compile_check(check)(log)
    return result.passed, result.count


FACE = [(0, False), (1, True), (5, False), (7, True), (11, False), (13, True), (17, False)]


# ---- rises ----------------------------------------------------------------------------------
def test_rises_counts_off_to_on_edges() -> None:
    log = make_log(18, face=FACE)
    assert run("rises(face)", log) == (True, 1)
    assert run("rises(face, times=3)", log) == (True, 3)
    assert run("rises(face, times=4)", log) == (False, 3)
    assert run("rises(face)", make_log(18, face=[(0, False)])) == (False, 0)
    # numbers and strings count as on when non-zero / non-empty
    assert run("rises(count, 2)", make_log(9, count=[(0, 0), (1, 2), (2, 3), (3, 0), (4, 1)])) \
        == (True, 2)


# ---- held -----------------------------------------------------------------------------------
def test_held_needs_the_signal_on_long_enough() -> None:
    log = make_log(18, face=FACE)          # on 1–5, 7–11, 13–17: 4 s each
    assert run("held(face, 4)", log) == (True, 1)
    assert run("held(face, seconds=4, times=3)", log) == (True, 3)
    assert run("held(face, 4.5)", log) == (False, 0)
    still_on = make_log(10, face=[(0, False), (6, True)])     # on since 6, now 10
    assert run("held(face, 3)", still_on) == (True, 1)


# ---- follows / off_while --------------------------------------------------------------------
LED_OK = [(0, 0.0), (1.1, 1.0), (5.1, 0.0), (7.1, 1.0), (11.1, 0.0), (13.1, 1.0), (17.1, 0.0)]
LED_INVERTED = [(0, 1.0), (1.1, 0.0), (5.1, 1.0), (7.1, 0.0), (11.1, 1.0), (13.1, 0.0)]


def test_follows_counts_output_periods_during_the_input() -> None:
    assert run("follows(led, face, times=3)", make_log(18, face=FACE, led=LED_OK)) == (True, 3)
    assert run("follows(led, face, times=3)", make_log(18, face=FACE, led=[(0, 1.0)])) \
        == (False, 1)                        # always on: one long period
    assert run("follows(led, face, times=3)", make_log(18, face=FACE, led=LED_INVERTED))[0] \
        is False
    flicker = [(0, 0.0), (2, 1.0), (2.05, 0.0), (8, 1.0), (8.05, 0.0)]
    assert run("follows(led, face)", make_log(18, face=FACE, led=flicker)) == (False, 0)
    assert run("follows(led, face, min_seconds=0.01)", make_log(18, face=FACE, led=flicker)) \
        == (True, 1)


def test_off_while_counts_dark_periods_without_the_input_after_first_on() -> None:
    assert run("off_while(led, face, times=2)", make_log(18, face=FACE, led=LED_OK)) == (True, 2)
    assert run("off_while(led, face, times=2)", make_log(18, face=FACE, led=[(0, 0.0)])) \
        == (False, 0)                        # never on: nothing to judge
    assert run("off_while(led, face, times=2)", make_log(18, face=FACE, led=[(0, 1.0)])) \
        == (False, 0)                        # never off
    assert run("off_while(led, face, times=2)", make_log(18, face=FACE, led=LED_INVERTED))[0] \
        is False


# ---- crosses --------------------------------------------------------------------------------
LEVEL = [(0, 40), (1, 75), (2, 50), (3, 80), (4, 82), (5, 30)]


def test_crosses_in_each_direction() -> None:
    log = make_log(6, level=LEVEL)
    assert run("crosses(level, 70, times=2)", log) == (True, 2)
    assert run("crosses(level, 70, direction=down, times=2)", log) == (True, 2)
    assert run("crosses(level, 70, direction=either, times=4)", log) == (True, 4)
    assert run("crosses(level, 90)", log) == (False, 0)
    assert run("crosses(level, 75)", make_log(3, level=[(0, 74), (1, 75)])) == (True, 1)
    # non-numbers are skipped, not crashed on
    assert run("crosses(level, 70)", make_log(3, level=[(0, "x"), (1, 60), (2, 71)])) \
        == (True, 1)


# ---- happened -------------------------------------------------------------------------------
def test_happened_with_and_without_conditions() -> None:
    trained = [(1, {"accuracy": 0.6, "classes": 2}), (5, {"accuracy": 0.85, "classes": 2})]
    log = make_log(9, trained=trained, heard=[(1, "开灯"), (2, ""), (3, "关灯"), (4, "开灯")],
                   saved=[(1, True), (2, False)])
    assert run("happened(trained)", log) == (True, 1)
    assert run('happened(trained, accuracy=">= 0.8")', log) == (True, 1)
    assert run('happened(trained, times=2, accuracy=">= 0.8")', log) == (False, 1)
    assert run('happened(trained, accuracy="> 0.9")', log) == (False, 0)
    assert run("happened(heard, value=开灯, times=2)", log) == (True, 2)
    assert run("happened(heard, times=3)", log) == (True, 3)      # "" is not an event
    assert run("happened(saved, times=2)", log) == (False, 1)
    assert run("happened(nothing)", log) == (False, 0)


# ---- in_order -------------------------------------------------------------------------------
def test_in_order_reads_the_passed_steps() -> None:
    ok = make_log(9, step=[(1, "look"), (3, "follow"), (5, "dark")])
    assert run("in_order([look, follow, dark])", ok) == (True, 3)
    swapped = make_log(9, step=[(1, "follow"), (3, "look"), (5, "dark")])
    assert run("in_order([look, follow, dark])", swapped) == (False, 1)
    assert run("in_order([look, follow])", make_log(9, step=[(1, "look")])) == (False, 1)


# ---- the language ---------------------------------------------------------------------------
@pytest.mark.parametrize("source, words", [
    ("blinks(face)", "there is no check 'blinks'"),
    ("rises()", "missing a required argument"),
    ("rises(face, times=0)", "times must be a whole number"),
    ("rises(face, times=1.5)", "times must be a whole number"),
    ("held(face, -2)", "seconds must be more than 0"),
    ("crosses(level, 70, direction=sideways)", "direction must be up, down or either"),
    ("rises(face, colour=red)", "unexpected keyword argument"),
    ("in_order(look)", "give the step ids"),
    ("__import__('os').system('x')", "is not a check"),
    ("rises(face) + 1", "BinOp is not allowed"),
    ("rises(face", "not a valid expression"),
    ("face", "is not a check"),
])
def test_bad_checks_are_refused_with_a_reason(source: str, words: str) -> None:
    with pytest.raises(ExprError) as exc:
        compile_check(source)
    assert words in str(exc.value)


def test_a_check_names_the_signals_it_reads() -> None:
    assert compile_check("follows(led, face, times=3)").signals() == ["led", "face"]
    assert compile_check("happened(trained, accuracy='>= 0.8')").signals() == ["trained"]
    assert compile_check("in_order([a_step, b_step])").signals() == []
