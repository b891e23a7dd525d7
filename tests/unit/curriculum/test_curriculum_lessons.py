"""Labs as lessons, and plans: the package's curriculum is valid; each kind of mistake in a
lab.yaml or a plan is named clearly, with the file and the line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from labkit import curriculum
from labkit.projects.registry import discover
from labkit.store import Problem
from tests.helpers import REPO, labkit_env

LAB_FILE = "labs/experience/face_led/lab.yaml"


def load(root: Path | None = None) -> curriculum.Curriculum:
    """The package's curriculum, or a copy's plans with the labs beside them (tmp/labs)."""
    if root is None:
        return curriculum.load(None, discover())
    return curriculum.load(root, discover([(root.parent / "labs", "package")]))


def test_the_repository_curriculum_is_valid() -> None:
    cur = load()
    assert cur.errors == []
    lesson = cur.lesson("face_led")
    assert lesson.band == "experience" and lesson.project == "face_led"
    assert lesson.class_hours == 1 and lesson.grades == (1, 6)
    assert lesson.bindings() == [("look", "face_seen"), ("follow", "led_on_with_face"),
                                 ("dark", "led_off_without_face"),
                                 ("colours", "colour_follows_faces")]
    assert lesson.t("title", "zh_CN") == "看见你，灯就亮" and lesson.t("title", "en")
    assert sorted(cur.plans) == ["cognition", "creative", "experience"]
    primary = {lesson.id for lesson in cur.lessons_in("experience")}
    assert {"face_led", "clap_lamp", "rock_paper_scissors", "smart_doorbell"} <= primary


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
    assert g12[(1, "autumn")]["hours"] == 3 and "face_led" in g12[(1, "autumn")]["lessons"]
    assert g12[(2, "spring")]["hours"] == 3
    # grades 1–2, 3–6 and the high school meet their targets; a band that does not says so
    assert groups["g1_2"]["met"] and groups["high"]["met"]
    primary = [r for r in groups["g3_8"]["rows"] if r["grade"] <= 6]
    assert {r["grade"] for r in primary} == {3, 4, 5, 6}
    assert all(r["hours"] >= 9 for r in primary), primary
    text = curriculum.format_report(rep)
    assert "valid:" in text
    short = [r for r in groups["g3_8"]["rows"] if r["hours"] < 9]
    assert ("NOT MET" in text) == bool(short) == (not groups["g3_8"]["met"])
    for row in short:
        assert f"{9 - row['hours']:g} h short" in text
    met = sum(g["met"] for g in rep["targets"])
    assert f"targets met: {met}/3" in text


def test_the_high_school_plan_has_a_cross_disciplinary_practice_every_semester() -> None:
    cur = load()
    rep = curriculum.report(cur)
    high = next(g for g in rep["targets"] if g["key"] == "high")
    assert high["met"], high
    rows = {(r["grade"], r["term"]): r for r in high["rows"]}
    for grade in (10, 11, 12):
        for term in ("autumn", "spring"):
            lessons = rows[(grade, term)]["lessons"]
            assert lessons, (grade, term)
            assert all(cur.lesson(lesson).band == "creative" and
                       cur.lesson(lesson).cross_disciplinary for lesson in lessons)


def test_grades_7_8_take_a_lab_every_two_weeks_in_both_semesters() -> None:
    cur = load()
    rep = curriculum.report(cur)
    g38 = next(g for g in rep["targets"] if g["key"] == "g3_8")
    rows = {(r["grade"], r["term"]): r for r in g38["rows"]}
    for grade in (7, 8):
        for term in ("autumn", "spring"):
            row = rows[(grade, term)]
            assert row["hours"] >= 9, (grade, term, row)
            assert len(row["lessons"]) == 9 and len(set(row["lessons"])) == 9
            assert all(cur.lesson(lesson).band == "cognition" for lesson in row["lessons"])
    spring = rows[(7, "spring")]["lessons"]
    assert {"waste_sorting", "privacy"} <= set(spring)


def test_targets_are_met_when_plans_have_enough(curriculum_copy: Path) -> None:
    plan = curriculum_copy / "plans" / "experience.yaml"
    text = plan.read_text(encoding="utf-8")
    # the same 1-hour lesson three times is not allowed, so widen class hours instead
    lesson = curriculum_copy.parent / LAB_FILE
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


def _unknown_detector_name(d: dict) -> None:
    d["signals"]["face"]["value"] = "eyes.present"


def _unwired_device(d: dict) -> None:
    d["wiring"] = []


def _undeclared_signal(d: dict) -> None:
    d["checks"]["face_seen"] = "rises(smile)"


def _not_a_check(d: dict) -> None:
    d["checks"]["face_seen"] = "blinks(face)"


def _bad_check_argument(d: dict) -> None:
    d["checks"]["face_seen"] = "rises(face, times=0)"


def _unknown_detector(d: dict) -> None:
    d["uses"]["faces"]["detector"] = "mind_reader"


def _unknown_scene(d: dict) -> None:
    d["demo"][0]["camera"] = "unicorn"


def _action_on_unknown_signal(d: dict) -> None:
    d["actions"] = {"hello": {"when": "smile.present", "say": {"zh_CN": "你好", "en": "Hello"}}}


def _action_without_english(d: dict) -> None:
    d["actions"] = {"hello": {"when": "faces.present", "say": {"zh_CN": "你好"}}}


def _demo_bench_unwired(d: dict) -> None:
    d["demo"].append({"for": 1, "bench": {"device": "button", "action": "click"}})


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
    (_unknown_check, "steps[0].check: there is no check 'led_blinks_twice'"),
    (_bad_pin, "wiring[0].pin: pin 40 is not a GPIO pin"),
    (_wrong_pin, "led pin is on pin 17 in the kit wiring, not pin 18"),
    (_negative_hours, "class_hours must be more than 0 (got -1)"),
    (_zero_hours, "class_hours must be more than 0 (got 0)"),
    (_unknown_detector_name, "signals.face: 'eyes' is not one of the lab's uses"),
    (_unwired_device, "bindings.led.source: 'led' is not in the lab's wiring"),
    (_undeclared_signal, "rises reads 'smile', which is not a signal"),
    (_not_a_check, "there is no check 'blinks'"),
    (_bad_check_argument, "times must be a whole number"),
    (_unknown_detector, "give either detector: <name>"),
    (_unknown_scene, "demo[0].camera: unknown scene 'unicorn'"),
    (_demo_bench_unwired, "'button' is not in the lab's wiring"),
    (_action_on_unknown_signal, "actions.hello.when: 'smile' is not one of the lab's uses"),
    (_action_without_english, "actions.hello.say"),
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
    assert any(words in e and LAB_FILE + ", line " in e for e in cur.errors), cur.errors
    # the plan naming the now-invalid lesson is reported too, not silently emptied
    assert any(e.startswith("plans/experience.yaml") and "face_led" in e for e in cur.errors)


def test_yaml_syntax_errors_give_the_line(curriculum_copy: Path) -> None:
    path = curriculum_copy.parent / LAB_FILE
    path.write_text("grades: [1, 3]\ntitle: {zh_CN: 看, en: see\n", encoding="utf-8")
    errors = load(curriculum_copy).errors
    assert any(LAB_FILE + ", line 3: not valid YAML" in e for e in errors), errors


def test_id_and_band_are_the_folders(curriculum_copy: Path) -> None:
    labs = curriculum_copy.parent / "labs"
    (labs / "creative").mkdir(exist_ok=True)
    (labs / "experience" / "face_led").rename(labs / "creative" / "face_lamp")
    path = labs / "creative" / "face_lamp" / "lab.yaml"
    path.write_text("id: face_led\nband: experience\n" + path.read_text(encoding="utf-8"),
                    encoding="utf-8")
    errors = load(curriculum_copy).errors
    assert any("id 'face_led' does not match the folder name 'face_lamp'" in e for e in errors)
    assert any("band 'experience' but the folder is in creative/" in e for e in errors)
    path.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[2:]),
                    encoding="utf-8")
    cur = load(curriculum_copy)
    assert cur.lesson("face_lamp").band == "creative"   # the folder says so, once


def test_bad_plans_are_reported(curriculum_copy: Path) -> None:
    plan = curriculum_copy / "plans" / "cognition.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("    lessons:\n", "    lessons:\n      - {week: 30, lesson: ghost_lab}"
                                 "\n      - {week: 2, lesson: face_led}\n", 1), encoding="utf-8")
    errors = load(curriculum_copy).errors
    assert any("week" in e and "plans/cognition.yaml" in e for e in errors), errors
    plan.write_text(text.replace("    lessons:\n", "    lessons:\n      - {week: 2, lesson: ghost_lab}"
                                 "\n      - {week: 3, lesson: face_led}\n", 1), encoding="utf-8")
    errors = load(curriculum_copy).errors
    assert any("no (valid) lesson 'ghost_lab'" in e for e in errors)
    assert any("lesson 'face_led' is in band 'experience', not 'cognition'" in e for e in errors)
    assert any("grades 1–6, the semester for grades 7–8" in e for e in errors)


def test_cached_reload_notices_a_changed_lab_in_the_data_dir(data_dir: Path) -> None:
    import os
    import shutil
    import time

    from labkit.projects.discovery import PACKAGE_LABS

    lab = data_dir / "labs" / "experience" / "face_copy"
    shutil.copytree(PACKAGE_LABS / "experience" / "face_led", lab)
    first = curriculum.cached(data_dir=data_dir)
    assert "face_copy" in first.lessons
    assert curriculum.cached(data_dir=data_dir) is first
    path = lab / "lab.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("class_hours: 1",
                                                             "class_hours: -1"), "utf-8")
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    second = curriculum.cached(data_dir=data_dir)
    assert second is not first and "face_copy" not in second.lessons
    assert any("face_copy/lab.yaml, line" in e for e in second.errors)


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
    import shutil

    result = _cli(tmp=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid:" in result.stdout and "targets met: 3/3" in result.stdout
    assert _cli("--strict", tmp=tmp_path).returncode == 0     # every grade band is planned
    # without the middle-school plan, grades 7–8 fall short: a warning, and --strict fails
    folder = tmp_path / "curriculum"
    shutil.copytree(REPO / "labkit" / "curriculum" / "plans", folder / "plans")
    (folder / "plans" / "cognition.yaml").unlink()
    short = _cli("--dir", str(folder), tmp=tmp_path)
    assert short.returncode == 0 and "NOT MET" in short.stdout, short.stdout + short.stderr
    assert _cli("--dir", str(folder), "--strict", tmp=tmp_path).returncode == 1
    rep = json.loads(_cli("--json", tmp=tmp_path).stdout)
    assert rep["valid"] and "face_led" in rep["lessons"]["experience"]


def test_cli_fails_on_a_broken_lab_pack_listing_every_problem(tmp_path: Path) -> None:
    import shutil

    import yaml

    from labkit.projects.discovery import PACKAGE_LABS

    lab = tmp_path / "data" / "labs" / "experience" / "face_pack"
    shutil.copytree(PACKAGE_LABS / "experience" / "face_led", lab)
    data = yaml.safe_load((lab / "lab.yaml").read_text(encoding="utf-8"))
    _unknown_check(data)
    _wrong_pin(data)
    (lab / "lab.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = _cli(tmp=tmp_path)
    assert result.returncode == 1
    assert "INVALID" in result.stdout and "led_blinks_twice" in result.stdout
    assert "not pin 18" in result.stdout and "face_pack/lab.yaml" in result.stdout
