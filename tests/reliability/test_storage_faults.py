"""Database and disk faults: a replaced store refuses writes, a full disk says so clearly,
a camera missing at start does not stop the kit."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from labkit.store import Problem, Store
from labkit.store.db import DB_NAME
from tests.reliability.figures import record


def _remove_db(data_dir: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (data_dir / (DB_NAME + suffix)).unlink(missing_ok=True)


@pytest.mark.parametrize("fault", ["deleted", "replaced"])
def test_a_store_file_gone_under_the_kit_refuses_writes_and_recovers_after_restart(
        fault: str, teacher_client: Any, runtime: Any, settings: Any, tmp_path: Path) -> None:
    store = Store.for_runtime(runtime)
    store.roster.add_class("一年级一班")
    if fault == "deleted":
        _remove_db(settings.data_dir)
    else:
        other = Store(tmp_path / "other")
        other.roster.add_class("别的班")
        other.close()
        _remove_db(settings.data_dir)
        shutil.copy(tmp_path / "other" / DB_NAME, settings.data_dir / DB_NAME)

    r = teacher_client.post("/teacher/classes", data={"name": "二年级二班"},
                            follow_redirects=True)
    html = r.get_data(as_text=True)
    assert html.count("什么都不会再保存") + html.count("nothing more is saved") >= 2  # flash+banner
    with pytest.raises(Problem) as err:
        store.roster.add_class("三年级三班")
    assert err.value.code == "store_gone"
    page = teacher_client.get("/").get_data(as_text=True)
    assert 'id="store-gone"' in page

    reopened = Store(settings.data_dir)   # what a restart does
    try:
        names = [c.name for c in reopened.roster.classes()]
        assert "二年级二班" not in names and "三年级三班" not in names
        reopened.roster.add_class("四年级四班")
        assert reopened.db.integrity_check() == "ok"
    finally:
        reopened.close()
    record(f"store_file_{fault}", {"faults_injected": 1, "writes_refused": 2,
                                   "recovered_after_restart": True})


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """The data dir on a 6 MB tmpfs, so the disk can really fill up (needs root)."""
    path = tmp_path / "data"
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs",
                           str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(folder: Path) -> Path:
    """Write zeros until the disk is full. Unbuffered: a buffered file keeps the tail of a
    partial write and raises ENOSPC again when it is closed."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.tmp")]


def test_a_full_disk_says_so_loses_nothing_and_leaves_no_partial_files(
        student_client: Any, runtime: Any, settings: Any) -> None:
    r = student_client.post("/api/learn/projects",
                            json={"name": "猫", "kind": "image", "classes": ["猫", "狗"]})
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    project = r.get_json()["project"] if "project" in r.get_json() else r.get_json()
    pid, cid = project["id"], project["classes"][0]["id"]
    url = f"/api/learn/projects/{pid}/classes/{cid}/capture"
    first = student_client.post(url, json={"seconds": 0.2})
    assert first.status_code == 200, first.get_data(as_text=True)
    saved = {p: p.read_bytes() for p in settings.data_dir.rglob("*.jpg")}
    assert saved

    filler = _fill(settings.data_dir)
    r = student_client.post(url, json={"seconds": 0.2})
    assert r.status_code == 507, r.get_data(as_text=True)
    error = r.get_json()["error"]
    assert error["code"] == "storage_full" and error["fix"]
    assert _temp_files(settings.data_dir) == []
    assert {p: p.read_bytes() for p in settings.data_dir.rglob("*.jpg")} == saved

    # SQLite on the same full disk: a clear Problem, the store still whole
    store = Store.for_runtime(runtime)
    with pytest.raises(Problem) as err:
        with store.db.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS filler (b BLOB)")
            tx.execute("INSERT INTO filler VALUES (?)", (os.urandom(2_000_000),))
    assert err.value.code == "storage_full"

    filler.unlink()
    again = student_client.post(url, json={"seconds": 0.2})
    assert again.status_code == 200, again.get_data(as_text=True)
    listed = student_client.get(f"/api/learn/projects/{pid}").get_json()
    assert sum(len(c["samples"]) if isinstance(c.get("samples"), list) else c.get("count", 0)
               for c in (listed.get("project", listed))["classes"]) == 2
    assert store.db.integrity_check() == "ok"
    with sqlite3.connect(settings.data_dir / DB_NAME) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    record("disk_full", {"faults_injected": 2, "tmpfs_bytes": 6 * 1024 * 1024,
                         "partial_files": 0, "samples_lost": 0})


def test_a_camera_file_missing_at_start_the_kit_starts_says_so_and_picks_it_up(
        tmp_path: Path, settings: Any) -> None:
    import time

    import cv2
    import numpy as np

    from labkit.runtime import KitRuntime
    from labkit.web import create_app

    camera_file = tmp_path / "usb" / "camera.png"
    rt = KitRuntime(settings.with_(camera=str(camera_file)))
    try:
        assert not rt.camera.connected
        app = create_app(settings.with_(camera=str(camera_file)), rt)
        app.config.update(TESTING=True)
        home = app.test_client().get("/")
        assert home.status_code == 200
        assert 'id="camera-missing"' in home.get_data(as_text=True)
        assert app.test_client().get("/healthz").status_code in (200, 503)

        camera_file.parent.mkdir()
        cv2.imwrite(str(camera_file), np.full((48, 64, 3), 200, np.uint8))
        deadline = time.monotonic() + 3.0
        while not rt.camera.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rt.camera.connected
        assert rt.camera.wait_for_frame(timeout=2.0) is not None
        assert 'id="camera-missing"' not in app.test_client().get("/").get_data(as_text=True)
        record("camera_file_missing_at_start", {"faults_injected": 1, "kit_started": True,
                                                "picked_up_within_s": 3.0})
    finally:
        rt.close()
