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


def test_half_jumping_jacks_are_noticed_as_not_counted() -> None:
    check = _check("pe_assessment", "half_reps_not_counted")
    arm_full = [(t, v) for t, v in ((1, 20), (2, 150), (3, 20), (4, 150), (5, 20))]
    arm_half = [(6, 70), (7, 15), (8, 70), (9, 15)]
    counted = [(0, 0), (3, 1), (5, 2)]
    assert check(make_log(10.0, arm=arm_full + arm_half, jack_count=counted)).passed
    # every movement counted (no poor form done, or the kit counted the half ones)
    assert not check(make_log(10.0, arm=arm_full + arm_half,
                              jack_count=counted + [(7, 3), (9, 4)])).passed
    assert not check(make_log(10.0, arm=arm_full, jack_count=counted)).passed


def test_the_pe_steps_pass_on_sit_ups_as_on_jumping_jacks() -> None:
    three, light = _check("pe_assessment", "three_reps"), _check("pe_assessment", "form_light")
    half = _check("pe_assessment", "half_reps_not_counted")
    counted = [(0, 0), (3, 1), (5, 2), (7, 3)]
    up = [(2.5, True), (3, False), (4.5, True), (5, False), (6.5, True), (7, False)]
    led = [(2.5, 1), (3, 0), (4.5, 1), (5, 0), (6.5, 1), (7, 0)]
    assert three(make_log(10.0, situp_count=counted)).passed
    assert not three(make_log(10.0, situp_count=counted[:3], jack_count=counted[:3])).passed
    assert light(make_log(10.0, up=up, led=led)).passed
    assert not light(make_log(10.0, up=up, led=[(0, 0)])).passed
    # two sit-up movements that stayed short of 'up' were not counted
    assert half(make_log(10.0, situp_count=counted, situp_attempts=[(0, 0), (9, 5)])).passed
    assert not half(make_log(10.0, situp_count=counted, situp_attempts=[(0, 0), (9, 4)])).passed
    assert not half(make_log(10.0, situp_count=[(0, 0)], situp_attempts=[(0, 0), (9, 2)])).passed


def test_open_project_card_needs_a_picture_and_every_ethics_item() -> None:
    from labkit.projects.registry import discover
    from labkit.projects.vocabulary import compile_check

    checks = discover([(PACKAGE_LABS, "package")]).specs["open_project"].data["checks"]
    ready, ethics = compile_check(checks["card_ready"]), compile_check(checks["ethics_complete"])
    draft = {"ethics_done": 3, "has_picture": False, "has_results": True}
    done = {"ethics_done": 5, "has_picture": True, "has_results": True}
    assert not ready(make_log(5.0, card=[(1, draft)])).passed
    assert not ethics(make_log(5.0, card=[(1, draft)])).passed
    assert ready(make_log(5.0, card=[(1, draft), (2, done)])).passed
    assert ethics(make_log(5.0, card=[(1, done)])).passed
