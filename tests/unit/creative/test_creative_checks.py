"""The creative labs' checks.py functions on hand-written logs: each can fail."""

from __future__ import annotations

from labkit.projects.discovery import PACKAGE_LABS, load_checks_py
from tests.unit.projects.test_projects_vocabulary import make_log


def _check(lab: str, name: str):
    return load_checks_py(PACKAGE_LABS / "creative" / lab / "checks.py", "creative", lab)[name][0]


def test_cars_get_green_only_without_a_pedestrian() -> None:
    check = _check("smart_crossing", "cars_get_green")
    green = make_log(10.0, car=[(1, True), (4, False)], walker=[(0, False)],
                     rgb=[(0, [0, 1, 0])])
    assert check(green).passed
    red = make_log(10.0, car=[(1, True), (4, False)], walker=[(0, False)],
                   rgb=[(0, [1, 0, 0])])
    assert not check(red).passed
    walker_there = make_log(10.0, car=[(1, True), (4, False)], walker=[(0.5, True), (5, False)],
                            rgb=[(0, [0, 1, 0])])
    assert not check(walker_there).passed


def test_a_held_card_is_read_once() -> None:
    check = _check("ocr_reader", "no_repeats")
    once = make_log(10.0, text_seen=[(1, True), (5, False)], read_count=[(0, 0), (2, 1)])
    assert check(once).passed
    twice = make_log(10.0, text_seen=[(1, True), (5, False)],
                     read_count=[(0, 0), (2, 1), (3, 2)])
    assert not check(twice).passed
    brief = make_log(10.0, text_seen=[(1, True), (2.5, False)], read_count=[(0, 0), (2, 1)])
    assert not check(brief).passed
