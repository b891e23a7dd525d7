"""The first-program lab's check on hand-written logs (a real blocks program inside the lab is
tests/web/test_code_blocks_page.py; the demo is tests/labs)."""

from __future__ import annotations

from typing import Any

from labkit.projects.discovery import PACKAGE_LABS, load_checks_py
from tests.unit.projects.test_projects_vocabulary import make_log

STARTED = {"state": "started", "blocks": True}
ENDED = {"state": "ended", "reason": "done", "blocks": True}


def _check(name: str) -> Any:
    return load_checks_py(PACKAGE_LABS / "creative" / "first_program" / "checks.py",
                          "creative", "first_program")[name][0]


def test_the_led_must_be_lit_by_a_blocks_program() -> None:
    check = _check("blocks_program_lit_led")
    assert check(make_log(10, program=[(1, STARTED), (5, ENDED)],
                          led=[(2, 1), (4, 0)])).passed
    assert check(make_log(10, program=[(1, STARTED)], led=[(2, 1)])).passed   # still running
    # lit before the program, or by a program typed in Python, or with no program at all
    assert not check(make_log(10, program=[(5, STARTED), (8, ENDED)],
                              led=[(1, 1), (3, 0)])).passed
    typed = {**STARTED, "blocks": False}
    assert not check(make_log(10, program=[(1, typed), (5, ENDED)], led=[(2, 1)])).passed
    assert not check(make_log(10, led=[(2, 1), (4, 0)])).passed
