"""The gesture remote's checks.py on hand-written logs: the colour must be the gesture's own
(the built-in gestures' or the one a student chose for a taught gesture), for two gestures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from labkit.projects.discovery import PACKAGE_LABS
from tests.unit.projects.test_projects_vocabulary import make_log

_spec = importlib.util.spec_from_file_location(
    "gesture_remote_checks", Path(PACKAGE_LABS) / "cognition" / "gesture_remote" / "checks.py")
checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks)  # type: ignore[union-attr]


def test_two_gestures_each_in_their_own_colour() -> None:
    log = make_log(10.0,
                   gesture=[(0.0, "open_palm"), (1.0, ""), (2.0, "fist"), (3.0, "")],
                   colour=[(0.0, "green"), (1.0, "off"), (2.0, "red"), (3.0, "off")],
                   rgb=[(0.1, [0, 1, 0]), (1.1, [0, 0, 0]), (2.1, [1, 0, 0]), (3.1, [0, 0, 0])])
    assert checks.colours_follow_gestures(log).passed


def test_taught_gestures_count_with_the_colour_chosen_for_them() -> None:
    log = make_log(10.0,
                   gesture=[(0.0, "点赞"), (1.0, ""), (2.0, "OK"), (3.0, "")],
                   colour=[(0.0, "purple"), (1.0, "off"), (2.0, "cyan"), (3.0, "off")],
                   rgb=[(0.1, [0.5, 0, 1]), (1.1, [0, 0, 0]), (2.1, [0, 1, 1]), (3.1, [0, 0, 0])])
    assert checks.colours_follow_gestures(log).passed


def test_the_wrong_colour_or_one_gesture_does_not_count() -> None:
    wrong = make_log(10.0,
                     gesture=[(0.0, "fist"), (1.0, ""), (2.0, "open_palm"), (3.0, "")],
                     colour=[(0.0, "red"), (1.0, "off"), (2.0, "green"), (3.0, "off")],
                     rgb=[(0.1, [0, 1, 0]), (1.1, [0, 0, 0]), (2.1, [1, 0, 0]), (3.1, [0, 0, 0])])
    result = checks.colours_follow_gestures(wrong)
    assert not result.passed and result.count == 0
    once = make_log(10.0,
                    gesture=[(0.0, "open_palm"), (1.0, ""), (2.0, "open_palm"), (3.0, "")],
                    colour=[(0.0, "green"), (1.0, "off"), (2.0, "green"), (3.0, "off")],
                    rgb=[(0.1, [0, 1, 0]), (1.1, [0, 0, 0]), (2.1, [0, 1, 0]), (3.1, [0, 0, 0])])
    result = checks.colours_follow_gestures(once)
    assert not result.passed and result.count == 1
