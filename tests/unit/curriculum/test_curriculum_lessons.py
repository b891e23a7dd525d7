"""Lessons and plans: the repo's curriculum is valid; each kind of mistake is named clearly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from labkit import curriculum
from labkit.projects.registry import known_projects
from labkit.store import Problem
from tests.helpers import REPO, labkit_env


def load(root: Path | None = None) -> curriculum.Curriculum:
    return curriculum.load(root, known_projects())


def test_the_repository_curriculum_is_valid() -> None:
    cur = load()
    assert cur.errors == []
    lesson = cur.lesson("face_led")
    assert lesson.band == "experience" and lesson.project == "face_led"
    assert lesson.class_hours == 1 and lesson.grades == (1, 3)
    assert lesson.bindings() == [("look", "face_seen"), ("follow", "led_on_with_face"),
                                 ("dark", "led_off_without_face")]
    assert lesson.t("title", "zh_CN") == "看见你，灯就亮" and lesson.t("title", "en")
    assert sorted(cur.plans) == ["cognition", "creative", "experience"]
    assert [lesson.id for lesson in cur.lessons_in("experience")] == ["face_led"]


def test_every_text_of_every_lesson_has_both_languages() -> None:
    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            if set(value) & {"zh_CN", "en"}:
                assert value.get("zh_CN", "").strip() and value.get("en", "").strip(), where
            for k, v in value.items():
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")
    for lesson in load().lessons.values():
        walk(lesson.data, lesson.id)


def test_report_counts_class_hours_against_the_targets() -> None:
    rep = curriculum.report(load())
    groups = {g["key"]: g for g in rep["targets"]}
    g12 = {(r["grade"], r["term"]): r for r in groups["g1_2"]["rows"]}
    assert g12[(1, "autumn")]["hours"] == 1 and g12[(1, "autumn")]["lessons"] == ["face_led"]
    assert g12[(2, "spring")]["hours"] == 0
    # honest: today's plans do not meet the targets yet, and the report says so
    assert not groups["g1_2"]["met"] and not groups["g3_8"]["met"] and not groups["high"]["met"]
    text = curriculum.format_report(rep)
    assert "valid:" in text and "NOT MET" in text and "2 h short" in text
    assert "targets met: 0/3" in text


def test_targets_are_met_when_plans_have_enough(curriculum_copy: Path) -> None:
    plan = curriculum_copy / "plans" / "experience.yaml"
    text = plan.read_text(encoding="utf-8")
    # the same 1-hour lesson three times is not allowed, so widen class hours instead
    lesson = curriculum_copy / "lessons" / "experience" / "face_led.yaml"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("class_hours: 1",
                                                                 "class_hours: 3"), "utf-8")
    plan.write_text(text.replace("    lessons: []", "    lessons: [{week: 5, lesson: face_led}]",
                                 1), encoding="utf-8")
    rep = curriculum.report(load(curriculum_copy))
    g12 = next(g for g in rep["targets"] if g["key"] == "g1_2")
    assert rep["valid"] and g12["met"], g12


def test_a_cross_disciplinary_lesson_counts_for_high_school() -> None:
    lesson = load().lesson("face_led")
    assert lesson.cross_disciplinary
    lesson.data["subjects"] = ["it"]
    assert not lesson.cross_disciplinary


# ---- bad lessons -----------------------------------------------------------------------------
def _drop_en_summary(d: dict) -> None:
    del d["summary"]["en"]


def _drop_zh_step(d: dict) -> None:
    del d["steps"][1]["text"]["zh_CN"]


def _blank_en_title(d: dict) -> None:
    d["title"]["en"] = "   "


def _unknown_check(d: dict) -> None:
    d["steps"][0]["check"] = "led_blinks_twice"


def _bad_pin(d: dict) -> None:
    d["wiring"][0]["pin"] = 40


def _wrong_pin(d: dict) -> None:
    d["wiring"][0]["pin"] = 18


def _negative_hours(d: dict) -> None:
    d["class_hours"] = -1


def _zero_hours(d: dict) -> None:
    d["class_hours"] = 0


def _missing_project(d: dict) -> None:
    d["project"] = "face_servo"


def _unwired_device(d: dict) -> None:
    d["wiring"] = []


def _unknown_device(d: dict) -> None:
    d["wiring"].append({"pin": 21, "device": "laser"})


def _spi_on_gpio(d: dict) -> None:
    d["wiring"].append({"pin": 8, "device": "light"})


def _rgb_without_lead(d: dict) -> None:
    d["wiring"].append({"pin": 5, "device": "rgb"})


def _duplicate_step(d: dict) -> None:
    d["steps"][1]["id"] = "look"


def _grades_backwards(d: dict) -> None:
    d["grades"] = [3, 1]


def _missing_rubric(d: dict) -> None:
    del d["rubric"]


def _unknown_field(d: dict) -> None:
    d["age_of_students"] = 7


def _one_level(d: dict) -> None:
    d["rubric"]["criteria"][0]["levels"] = d["rubric"]["criteria"][0]["levels"][:1]


@pytest.mark.parametrize("change, words", [
    (_drop_en_summary, "summary: the en text is missing"),
    (_drop_zh_step, "steps[1].text: the zh_CN text is missing"),
    (_blank_en_title, "title.en"),
    (_unknown_check, "steps[0].check: project 'face_led' has no check 'led_blinks_twice'"),
    (_bad_pin, "wiring[0].pin: pin 40 is not a GPIO pin"),
    (_wrong_pin, "led pin is on pin 17 in the kit wiring, not pin 18"),
    (_negative_hours, "class_hours must be more than 0 (got -1)"),
    (_zero_hours, "class_hours must be more than 0 (got 0)"),
    (_missing_project, "there is no lab project 'face_servo'"),
    (_unwired_device, "the lab uses the 'led' but the lesson does not wire it"),
    (_unknown_device, "the kit has no device 'laser'"),
    (_spi_on_gpio, "read through the MCP3008 on SPI0"),
    (_rgb_without_lead, "say which with 'lead'"),
    (_duplicate_step, "step id 'look' is used twice"),
    (_grades_backwards, "the first grade is after the last"),
    (_missing_rubric, "'rubric' is a required property"),
    (_unknown_field, "'age_of_students' was unexpected"),
    (_one_level, "rubric.criteria[0].levels"),
])
def test_bad_lessons_are_reported_with_file_and_place(
        edit_lesson: Callable[..., Path], change: Callable[[dict], None], words: str) -> None:
    root = edit_lesson(change)
    cur = load(root)
    assert "face_led" not in cur.lessons
    assert any(words in e and e.startswith("lessons/experience/face_led.yaml") for e in cur.errors), \
        cur.errors
    # the plan naming the now-invalid lesson is reported too, not silently emptied
    assert any(e.startswith("plans/experience.yaml") and "face_led" in e for e in cur.errors)


def test_yaml_syntax_errors_give_the_line(curriculum_copy: Path) -> None:
    path = curriculum_copy / "lessons" / "experience" / "face_led.yaml"
    path.write_text("id: face_led\ntitle: {zh_CN: 看, en: see\n", encoding="utf-8")
    errors = load(curriculum_copy).errors
    assert any("not valid YAML at line" in e for e in errors), errors


def test_file_name_and_folder_must_match(curriculum_copy: Path) -> None:
    src = curriculum_copy / "lessons" / "experience" / "face_led.yaml"
    (curriculum_copy / "lessons" / "creative").mkdir(exist_ok=True)
    src.rename(curriculum_copy / "lessons" / "creative" / "face_lamp.yaml")
    errors = load(curriculum_copy).errors
    assert any("does not match the file name 'face_lamp'" in e for e in errors)
    assert any("but the file is in lessons/creative/" in e for e in errors)


def test_bad_plans_are_reported(curriculum_copy: Path) -> None:
    plan = curriculum_copy / "plans" / "cognition.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("    lessons: []", "    lessons: [{week: 30, lesson: ghost_lab},"
                                 " {week: 2, lesson: face_led}]", 1), encoding="utf-8")
    errors = load(curriculum_copy).errors
    assert any("week" in e and "plans/cognition.yaml" in e for e in errors), errors
    plan.write_text(text.replace("    lessons: []", "    lessons: [{week: 2, lesson: ghost_lab},"
                                 " {week: 3, lesson: face_led}]", 1), encoding="utf-8")
    errors = load(curriculum_copy).errors
    assert any("no (valid) lesson 'ghost_lab'" in e for e in errors)
    assert any("lesson 'face_led' is in band 'experience', not 'cognition'" in e for e in errors)
    assert any("grades 1–3, the semester for grades 7–9" in e for e in errors)


def test_cached_reload_notices_a_changed_file(curriculum_copy: Path,
                                              edit_lesson: Callable[..., Path]) -> None:
    projects = known_projects()
    first = curriculum.cached(curriculum_copy, projects)
    assert curriculum.cached(curriculum_copy, projects) is first
    import os
    import time

    edit_lesson(_negative_hours)
    path = curriculum_copy / "lessons" / "experience" / "face_led.yaml"
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    second = curriculum.cached(curriculum_copy, projects)
    assert second is not first and "face_led" not in second.lessons


def test_unknown_lesson_is_a_problem() -> None:
    with pytest.raises(Problem) as exc:
        load().lesson("nope")
    assert exc.value.code == "not_found"


# ---- the command ------------------------------------------------------------------------------
def _cli(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labkit.cli", "curriculum", "check", *args],
                          capture_output=True, text=True, env=labkit_env(tmp / "data"), cwd=REPO,
                          timeout=120)


def test_cli_passes_on_the_repo_and_reports_unmet_targets(tmp_path: Path) -> None:
    result = _cli(tmp=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid:" in result.stdout and "NOT MET" in result.stdout
    strict = _cli("--strict", tmp=tmp_path)
    assert strict.returncode == 1
    rep = json.loads(_cli("--json", tmp=tmp_path).stdout)
    assert rep["valid"] and rep["lessons"]["experience"] == ["face_led"]


def test_cli_fails_on_a_broken_curriculum_listing_every_problem(
        edit_lesson: Callable[..., Path], tmp_path: Path) -> None:
    def two_mistakes(d: dict) -> None:
        _unknown_check(d)
        _wrong_pin(d)
    root = edit_lesson(two_mistakes)
    result = _cli("--dir", str(root), tmp=tmp_path)
    assert result.returncode == 1
    assert "INVALID" in result.stdout and "led_blinks_twice" in result.stdout
    assert "not pin 18" in result.stdout
