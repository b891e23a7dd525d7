"""The gesture remote's checks.py on hand-written logs: the colour must match the gesture."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from labkit.projects.discovery import PACKAGE_LABS
from tests.unit.projects.test_projects_vocabulary import make_log

_spec = importlib.util.spec_from_file_location(
    "gesture_remote_checks", Path(PACKAGE_LABS) / "cognition" / "gesture_remote" / "checks.py")
checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks)  # type: ignore[union-attr]


def test_green_counts_only_while_an_open_palm_is_shown() -> None:
    log = make_log(10.0,
                   gesture=[(0.0, "open_palm"), (1.0, ""), (2.0, "open_palm"), (3.0, "")],
                   rgb=[(0.1, [0, 1, 0]), (1.1, [0, 0, 0]), (2.1, [0, 1, 0]), (3.1, [0, 0, 0])])
    assert checks.green_with_open_palm(log).passed
    assert not checks.red_with_fist(log).passed


def test_the_wrong_colour_for_the_gesture_does_not_count() -> None:
    log = make_log(10.0,
                   gesture=[(0.0, "fist"), (1.0, ""), (2.0, "open_palm"), (3.0, "")],
                   rgb=[(0.1, [0, 1, 0]), (1.1, [0, 0, 0]), (2.1, [1, 0, 0]), (3.1, [0, 0, 0])])
    result = checks.green_with_open_palm(log)
    assert not result.passed and result.count == 0
    assert not checks.red_with_fist(log).passed
