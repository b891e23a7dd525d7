"""A broken lab pack in the data dir is named on the page (for the teacher) and by `labkit
doctor`; the other labs keep working."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from labkit.projects.health import check_labs
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import forget
from tests.integration import test_labs_web as labs_web

web = labs_web.web          # a CSRF-ready client; `school` signs the teacher in
school = labs_web.school


def broken_pack(data_dir: Path) -> Path:
    lab = data_dir / "labs" / "experience" / "broken_pack"
    shutil.copytree(PACKAGE_LABS / "experience" / "face_led", lab)
    (lab / "lab.yaml").write_text("grades: [1, 3\n", encoding="utf-8")
    forget()
    return lab


def test_the_teacher_sees_a_broken_lab_folder_and_the_other_labs_work(
        web: Any, school: dict[str, Any], data_dir: Path) -> None:
    broken_pack(data_dir)
    html = web.get("/").get_data(as_text=True)
    assert 'id="lab-problems"' in html and "broken_pack" in html and "lab.yaml, line 2" in html
    assert 'id="lab-face_led"' in html                     # the good lab is still there
    labs_web.as_student_only(web, school["wang"])
    html = web.get("/").get_data(as_text=True)
    assert 'id="lab-problems"' not in html                 # children are not bothered
    assert web.post("/api/labs/face_led/start", json={}).status_code == 200
    forget()


def test_doctor_names_the_broken_lab(settings: Any, data_dir: Path) -> None:
    assert check_labs(settings).ok
    broken_pack(data_dir)
    finding = check_labs(settings)
    assert not finding.ok and not finding.required
    assert "broken_pack" in finding.detail and "curriculum check" in finding.fix
    assert finding.data["problems"][0]["lab"] == "broken_pack"
    assert "face_led" in finding.data["labs"]
    forget()
