"""The registry finds labs by module, and reports a broken one without hiding the rest."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from labkit.projects.registry import discover, known_projects, registry
from labkit.store import Problem

LAB = '''
from labkit.projects.base import CheckResult, Project, check

class {cls}(Project):
    id = "{id}"
    band = "experience"
    hardware = ("led",)

    @check("lit")
    def lit(self, log):
        return CheckResult.counting(len(log.rises("led")), 1)
'''


def test_the_installed_labs_include_the_example() -> None:
    labs = registry()
    face = labs.get("face_led")
    assert face.band == "experience" and set(face.check_ids()) == {
        "face_seen", "led_on_with_face", "led_off_without_face"}
    assert not labs.broken
    known = known_projects()["face_led"]
    assert "led_on_with_face" in known.checks and known.devices == frozenset({"led"})


def test_unknown_lab_is_a_clear_problem() -> None:
    with pytest.raises(Problem) as exc:
        registry().get("no_such_lab")
    assert exc.value.code == "unknown_project" and "face_led" in exc.value.fix


def test_discovery_reports_broken_and_duplicate_modules(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "fakelabs"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "good.py").write_text(LAB.format(cls="Good", id="good_lab"))
    (pkg / "twin.py").write_text(LAB.format(cls="Twin", id="good_lab"))
    (pkg / "broken.py").write_text("import not_a_real_package_xyz\n")
    (pkg / "base.py").write_text("raise SystemExit('framework modules are not imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        labs = discover("fakelabs")
    finally:
        for name in [m for m in sys.modules if m.startswith("fakelabs")]:
            del sys.modules[name]
    assert list(labs.projects) == ["good_lab"]
    assert "ModuleNotFoundError" in labs.broken["fakelabs.broken"]
    assert "also used by" in labs.broken["fakelabs.twin"]
