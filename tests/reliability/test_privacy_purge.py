"""`labkit privacy purge --student X` and the console button erase a child's data everywhere;
samples expire at the end of a term."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from labkit.learn.dataset import ProjectStore
from labkit.privacy import expire_samples, set_samples_expiry
from labkit.store import Store
from tests.reliability.figures import record


def _child_with_data(store: Store, projects: ProjectStore, class_id: int, name: str) -> Any:
    kid = store.roster.add_student(class_id, name)
    run = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led", steps_total=2)
    store.runs.record_step(run, "see", "face_seen")
    store.artefacts.save(run, "sample", "我的脸", b"\xff\xd8\xff\xe0" + os.urandom(64), ".jpg")
    store.artefacts.save(run, "model", "我的模型", b"onnx" + os.urandom(64), ".onnx")
    project = projects.create(f"{name}的手势", "image", ["石头", "布"], owner=kid.id)
    project.add_sample(project.classes[0].id, np.zeros((32, 32, 3), np.uint8))
    return kid, project


def _footprint(store: Store, data_dir: Path, kid: Any, project_id: str) -> dict[str, int]:
    return {
        "runs": len(store.db.query("SELECT id FROM runs WHERE student_id = ?", (kid.id,))),
        "artefacts": len(store.db.query(
            "SELECT a.id FROM artefacts a JOIN runs r ON r.id = a.run_id WHERE r.student_id = ?",
            (kid.id,))),
        "portfolio_files": sum(1 for p in (data_dir / "portfolio" / str(kid.id)).rglob("*")
                               if p.is_file()) if (data_dir / "portfolio" / str(kid.id)).exists()
        else 0,
        "learn_files": sum(1 for p in (data_dir / "learn" / project_id).rglob("*")
                           if p.is_file()) if (data_dir / "learn" / project_id).exists() else 0,
    }


def test_the_cli_purge_erases_one_child_everywhere_and_keeps_the_other(data_dir: Path) -> None:
    store = Store(data_dir)
    projects = ProjectStore(data_dir)
    cls = store.roster.add_class("三年级二班")
    wang, wang_project = _child_with_data(store, projects, cls.id, "王芳")
    li, li_project = _child_with_data(store, projects, cls.id, "李雷")
    assert all(_footprint(store, data_dir, wang, wang_project.id).values())
    store.close()

    env = dict(os.environ, LABKIT_DATA=str(data_dir), LABKIT_LANG="en")
    done = subprocess.run([sys.executable, "-m", "labkit.cli", "privacy", "purge", "--student",
                           "王芳", "--yes"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 runs, 2 kept files, 1 /learn projects" in done.stdout

    store = Store(data_dir)
    try:
        assert _footprint(store, data_dir, wang, wang_project.id) == {
            "runs": 0, "artefacts": 0, "portfolio_files": 0, "learn_files": 0}
        assert all(_footprint(store, data_dir, li, li_project.id).values())
        assert store.roster.student_by_id(wang.id) is not None   # the name stays
        assert store.db.integrity_check() == "ok"
    finally:
        store.close()

    unknown = subprocess.run([sys.executable, "-m", "labkit.cli", "privacy", "purge",
                              "--student", "没有这个人", "--yes"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert unknown.returncode != 0 and "no student called" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    record("privacy_purge", {"students_purged": 1, "runs": 1, "kept_files": 2,
                             "learn_projects": 1, "left_behind": 0})


def test_the_console_button_erases_a_child(teacher_client: Any, app: Any, runtime: Any,
                                           settings: Any) -> None:
    from labkit.web.learn import projects

    with app.test_request_context():
        store = Store.for_runtime(runtime)
        cls = store.roster.add_class("四年级一班")
        kid, project = _child_with_data(store, projects(), cls.id, "张三")
    roster = teacher_client.get(f"/teacher/classes/{cls.id}").get_data(as_text=True)
    assert f'id="purge-{kid.id}"' in roster
    r = teacher_client.post(f"/teacher/classes/{cls.id}/students/{kid.id}/purge")
    assert r.status_code == 302
    assert _footprint(store, settings.data_dir, kid, project.id) == {
        "runs": 0, "artefacts": 0, "portfolio_files": 0, "learn_files": 0}


def test_samples_expire_at_the_end_of_term_and_newer_ones_stay(data_dir: Path) -> None:
    store = Store(data_dir)
    projects = ProjectStore(data_dir)
    try:
        cls = store.roster.add_class("五年级一班")
        kid, project = _child_with_data(store, projects, cls.id, "赵六")
        end_of_term = date.today() + timedelta(days=1)
        set_samples_expiry(store, end_of_term.isoformat())
        assert expire_samples(store, projects) == 0          # the day has not come
        assert (data_dir / "learn" / project.id).exists()
        removed = expire_samples(store, projects, today=end_of_term)
        assert removed == 2                                  # the project and the kept sample
        assert not (data_dir / "learn" / project.id).exists()
        kinds = [r["kind"] for r in store.db.query("SELECT kind FROM artefacts")]
        assert kinds == ["model"]                            # only samples expire
        set_samples_expiry(store, "")
        assert expire_samples(store, projects, today=end_of_term + timedelta(days=400)) == 0
    finally:
        store.close()


def test_the_teacher_sets_the_expiry_day_on_the_console(teacher_client: Any) -> None:
    r = teacher_client.post("/teacher/retention", data={"expire_on": "2027-01-20"},
                            follow_redirects=True)
    assert 'value="2027-01-20"' in r.get_data(as_text=True)
    bad = teacher_client.post("/teacher/retention", data={"expire_on": "soon"},
                              follow_redirects=True).get_data(as_text=True)
    assert "2027-01-20" in bad and ("soon" in bad)
