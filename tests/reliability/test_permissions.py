"""Owner-only data dir and store; deleting a project or a student removes their samples."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import numpy as np

from labkit.datadir import tidy_data_dir
from labkit.learn.dataset import ProjectStore
from labkit.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_new_data_dir_and_store_are_owner_only(tmp_path: Path, settings: Any) -> None:
    old = os.umask(0o022)
    try:
        fresh = settings.with_(data_dir=tmp_path / "fresh")
        fresh.ensure_data_dir()
        store = Store(fresh.data_dir)
        store.roster.add_class("三年级二班")
        try:
            assert mode(fresh.data_dir) == 0o700
            for name in ("labkit.sqlite3", "labkit.sqlite3-wal", "labkit.sqlite3-shm"):
                assert mode(fresh.data_dir / name) == 0o600, name
        finally:
            store.close()
    finally:
        os.umask(old)


def test_start_tightens_an_existing_loose_data_dir(tmp_path: Path, runtime: Any,
                                                   settings: Any) -> None:
    root = tmp_path / "loose"
    (root / "learn" / "p1" / "classes").mkdir(parents=True)
    (root / "learn" / "p1" / "classes" / "s1.jpg").write_bytes(b"x")
    (root / "labkit.sqlite3").write_bytes(b"")
    os.chmod(root, 0o755)
    for p in [root / "learn", root / "learn" / "p1", root / "learn" / "p1" / "classes"]:
        os.chmod(p, 0o755)
    for p in all_files(root):
        os.chmod(p, 0o644)
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    os.chmod(outside, 0o644)
    (root / "link").symlink_to(outside)

    done = tidy_data_dir(root)

    assert done.tightened == 5  # 3 folders + 2 files below the root (the root: private_dir)
    assert mode(root) == 0o700
    assert all(mode(p) == 0o700 for p in root.rglob("*") if p.is_dir() and not p.is_symlink())
    assert all(mode(p) == 0o600 for p in all_files(root) if not p.is_symlink())
    assert mode(outside) == 0o644  # a symlink is never followed
    # the runtime runs the same pass on its own data dir at start
    assert mode(settings.data_dir) == 0o700
    assert runtime.tidy is not None


def test_stale_atomic_temp_files_are_removed_and_fresh_ones_kept(tmp_path: Path) -> None:
    root = tmp_path / "d"
    (root / "portfolio" / "3" / "7").mkdir(parents=True)
    stale = root / "portfolio" / "3" / "7" / ".sample-ab.jpg.k2j3h4.tmp"
    fresh = root / ".labkit.json.9x8y7z.tmp"
    kept = root / "portfolio" / "3" / "7" / "sample-ab.jpg"
    for p in (stale, fresh, kept):
        p.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    done = tidy_data_dir(root)
    assert done.temp_removed == 1
    assert not stale.exists() and fresh.exists() and kept.exists()


def test_deleting_a_project_removes_its_samples_for_real(tmp_path: Path) -> None:
    projects = ProjectStore(tmp_path)
    project = projects.create("猫和狗", "image", ["猫", "狗"], owner=5)
    picture = np.full((64, 64, 3), 120, np.uint8)
    project.add_sample(project.classes[0].id, picture)
    project.remove_class(project.classes[1].id)
    projects.delete(project.id)
    left = [p for p in (tmp_path / "learn").rglob("*")]
    assert left == [], left
    # trash folders left by older kits are removed at start
    old_trash = tmp_path / "learn" / ".trash" / "p1-1700000000" / "classes"
    old_trash.mkdir(parents=True)
    (old_trash / "s1.jpg").write_bytes(b"\xff\xd8\xff")
    assert tidy_data_dir(tmp_path).trash_removed == 1
    assert not (tmp_path / "learn" / ".trash").exists()


def test_deleting_a_student_removes_their_projects_and_portfolio(
        teacher_client: Any, app: Any, runtime: Any, settings: Any) -> None:
    from labkit.web.learn import projects

    ctx = app.test_request_context()
    ctx.push()
    store = Store.for_runtime(runtime)
    cls = store.roster.add_class("三年级二班")
    wang = store.roster.add_student(cls.id, "王芳")
    li = store.roster.add_student(cls.id, "李雷")
    run = store.runs.start(wang.id, lesson_id="face_led", project_id="face_led", steps_total=1)
    store.artefacts.save(run, "sample", "我的脸", b"\xff\xd8\xffpicture", ".jpg")
    mine = projects().create("手势", "image", ["石头", "布"], owner=wang.id)
    mine.add_sample(mine.classes[0].id, np.zeros((32, 32, 3), np.uint8))
    theirs = projects().create("声音", "image", ["a", "b"], owner=li.id)

    r = teacher_client.post(f"/teacher/classes/{cls.id}/students/{wang.id}/delete")
    assert r.status_code == 302

    assert not (settings.data_dir / "learn" / mine.id).exists()
    assert (settings.data_dir / "learn" / theirs.id).exists()
    assert not (settings.data_dir / "portfolio" / str(wang.id)).exists()
    leftovers = [p for p in settings.data_dir.rglob("*") if p.is_file()
                 and (p.suffix in (".jpg", ".png", ".wav"))]
    assert leftovers == []
    ctx.pop()
