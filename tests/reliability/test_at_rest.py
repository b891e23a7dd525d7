"""Kept portfolio files (a child's photo, a trained model) are encrypted at rest."""

from __future__ import annotations

import stat
from pathlib import Path

from labkit.store import Store
from labkit.store.files import SEALED

JPEG = b"\xff\xd8\xff\xe0" + b"JFIF-picture-of-wang-fang" * 40


def test_kept_files_are_sealed_on_disk_and_clear_only_in_memory(data_dir: Path) -> None:
    store = Store(data_dir)
    try:
        kid = store.roster.add_student(store.roster.add_class("一班").id, "王芳")
        run = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led",
                               steps_total=1)
        art = store.artefacts.save(run, "sample", "王芳的照片", JPEG, ".jpg")
        on_disk = store.artefacts.path(art).read_bytes()
        assert on_disk.startswith(SEALED) and b"\xff\xd8\xff" not in on_disk
        assert "王芳".encode() not in on_disk and b"wang-fang" not in on_disk
        assert store.artefacts.read(art) == JPEG
        key = data_dir / "portfolio.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600

        # a file kept by an older kit (clear) is sealed at the next start
        legacy = store.artefacts.save(run, "sample", "旧照片", JPEG, ".jpg")
        store.artefacts.path(legacy).write_bytes(JPEG)
    finally:
        store.close()
    reopened = Store(data_dir)
    try:
        assert reopened.artefacts.path(legacy).read_bytes().startswith(SEALED)
        assert reopened.artefacts.read(reopened.artefacts.get(legacy.id)) == JPEG
        for path in (data_dir / "portfolio").rglob("*"):
            if path.is_file():
                assert not path.read_bytes().startswith(b"\xff\xd8\xff"), path
    finally:
        reopened.close()
