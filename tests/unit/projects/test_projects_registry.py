"""The registry finds labs by folder (package and data dir) and isolates a broken one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover, known_projects, registry
from labkit.store import Problem

FACE_LED = PACKAGE_LABS / "experience" / "face_led"


def copy_lab(root: Path, band: str, lab_id: str, edit: dict[str, str] | None = None) -> Path:
    folder = root / band / lab_id
    shutil.copytree(FACE_LED, folder)
    text = (folder / "lab.yaml").read_text(encoding="utf-8")
    for old, new in (edit or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    (folder / "lab.yaml").write_text(text, encoding="utf-8")
    return folder


def test_the_installed_labs_include_the_example() -> None:
    labs = registry()
    face = labs.get("face_led")
    assert face.band == "experience" and set(face.check_ids()) == {
        "face_seen", "led_on_with_face", "led_off_without_face", "colour_follows_faces"}
    assert not labs.problems
    known = known_projects()["face_led"]
    assert "led_on_with_face" in known.checks and known.devices == frozenset({"led", "rgb"})


def test_unknown_lab_is_a_clear_problem() -> None:
    with pytest.raises(Problem) as exc:
        registry().get("no_such_lab")
    assert exc.value.code == "unknown_project" and "face_led" in exc.value.fix


def test_labs_in_the_data_dir_are_found_beside_the_package(data_dir: Path) -> None:
    copy_lab(data_dir / "labs", "cognition", "face_count",
             {"grades: [1, 6]": "grades: [7, 8]"})
    labs = discover(data_dir=data_dir)
    assert {"face_led", "face_count"} <= set(labs.projects) and not labs.problems
    spec = labs.specs["face_count"]
    assert spec.band == "cognition" and spec.origin == "data"
    assert labs.get("face_count").band == "cognition"


def test_broken_lab_folders_are_reported_by_name_and_path_and_isolated(tmp_path: Path) -> None:
    root = tmp_path / "labs"
    copy_lab(root, "experience", "good_lab")
    copy_lab(root, "experience", "bad_yaml", {"grades: [1, 6]": "grades: [1, 6"})
    copy_lab(root, "experience", "bad_schema", {"class_hours: 1": "class_hours: -1"})
    copy_lab(root, "experience", "no_check", {"check: face_seen": "check: led_blinks"})
    copy_lab(root, "experience", "bad_band", {"grades: [1, 6]": "band: creative\ngrades: [1, 6]"})
    raising = copy_lab(root, "experience", "raising_checks")
    (raising / "checks.py").write_text("raise RuntimeError('oops in checks')\n")
    (root / "experience" / "empty_folder").mkdir()
    (root / "primary").mkdir()
    labs = discover([(root, "package")])
    assert set(labs.projects) == {"good_lab"}
    by_lab: dict[str, list[str]] = {}
    for p in labs.problems:
        by_lab.setdefault(p.lab, []).append(str(p))
    assert set(by_lab) == {"bad_yaml", "bad_schema", "no_check", "bad_band", "raising_checks",
                           "empty_folder", "primary"}
    assert any("not valid YAML" in m and "bad_yaml/lab.yaml, line" in m
               for m in by_lab["bad_yaml"])
    assert any("class_hours must be more than 0" in m and ", line 4:" in m
               for m in by_lab["bad_schema"]), by_lab["bad_schema"]
    assert any("there is no check 'led_blinks'" in m for m in by_lab["no_check"])
    assert any("band 'creative' but the folder is in experience/" in m
               for m in by_lab["bad_band"])
    assert any("checks.py cannot be loaded: RuntimeError: oops in checks" in m
               for m in by_lab["raising_checks"])
    assert any("has no lab.yaml" in m for m in by_lab["empty_folder"])
    assert any("is not a band" in m for m in by_lab["primary"])


def test_a_data_dir_lab_cannot_shadow_a_package_lab(data_dir: Path) -> None:
    copy_lab(data_dir / "labs", "experience", "face_led")
    labs = discover(data_dir=data_dir)
    assert labs.specs["face_led"].origin == "package"
    assert any("also used by" in p.message for p in labs.problems)


def test_checks_py_adds_checks_a_step_can_name(tmp_path: Path) -> None:
    root = tmp_path / "labs"
    folder = copy_lab(root, "experience", "py_lab", {"check: face_seen": "check: face_twice"})
    (folder / "checks.py").write_text(
        "from labkit.projects.vocabulary import rises\n\n"
        "def face_twice(log):\n"
        "    \"\"\"the face came twice\"\"\"\n"
        "    return rises(log, 'face', times=2)\n\n"
        "def _helper(log):\n    return True\n")
    labs = discover([(root, "package")])
    assert not labs.problems, labs.problems
    cls = labs.get("py_lab")
    assert "face_twice" in cls.check_ids() and "_helper" not in cls.check_ids()
    assert cls.checks["face_twice"].description == "the face came twice"
