"""Kit identity: a copy of a data dir written at schema 1 (tests/fixtures/kit-schema1, made by
that code) migrates with its data intact, a kit id, and unique UUIDs — once."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from labkit.store import Store
from labkit.store.db import DB_NAME
from labkit.store.migrations import MIGRATIONS, TRAVELLING_TABLES

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "kit-schema1"
DATA_TABLES = ("classes", "students", "runs", "step_results", "reflections", "scores",
               "artefacts", "kit_settings")


@pytest.fixture
def old_kit(tmp_path: Path) -> Path:
    """A copy of the schema-1 data dir, its database rebuilt from the committed dump."""
    data = tmp_path / "old-kit"
    shutil.copytree(FIXTURE, data, ignore=shutil.ignore_patterns("labkit.sql", "README.md"))
    conn = sqlite3.connect(data / DB_NAME)
    conn.executescript((FIXTURE / "labkit.sql").read_text(encoding="utf-8"))
    conn.close()
    return data


# columns later migrations add to schema-1 tables (checked on their own below)
ADDED_COLUMNS = {"uuid", "student_no"}


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
                if r[1] not in ADDED_COLUMNS]
        return conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY rowid").fetchall()
    finally:
        conn.close()


def _uuids(store: Store, table: str) -> list[str]:
    return [r["uuid"] for r in store.db.query(f"SELECT uuid FROM {table} ORDER BY id")]


def test_an_old_data_dir_migrates_intact_with_unique_uuids(old_kit: Path) -> None:
    db = old_kit / DB_NAME
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 1
    before = {t: _rows(db, t) for t in DATA_TABLES}
    assert len(before["students"]) == 4 and len(before["artefacts"]) == 4

    store = Store(old_kit)
    assert store.db.version == len(MIGRATIONS)
    assert store.db.integrity_check() == "ok"
    after = {t: _rows(db, t) for t in DATA_TABLES}
    assert after["kit_settings"] == before["kit_settings"] + [("kit_id", store.kit_id)]
    assert {t: v for t, v in after.items() if t != "kit_settings"} == \
        {t: v for t, v in before.items() if t != "kit_settings"}
    assert uuid.UUID(store.kit_id).version == 4
    assert {r["student_no"] for r in store.db.query("SELECT student_no FROM students")} == {""}

    seen = {store.kit_id}
    for table in TRAVELLING_TABLES:
        ids = _uuids(store, table)
        assert len(ids) == len(before[table]) and None not in ids
        assert all(uuid.UUID(u).version == 4 and str(uuid.UUID(u)) == u for u in ids)
        seen.update(ids)
    assert len(seen) == 1 + sum(len(before[t]) for t in TRAVELLING_TABLES)   # all distinct

    # what the old code kept is still readable through today's code
    kid = store.roster.student_by_id(1)
    assert kid is not None and kid.name == "王芳"
    runs = store.runs.for_student(kid.id)
    assert runs and runs[0].steps_passed >= 1
    art = store.artefacts.get(1)
    assert store.artefacts.read(art) == b"bytes of sample 0"
    assert store.identity.row_id("students", store.identity.uuid("students", 1)) == 1
    store.close()


def test_the_migration_runs_once(old_kit: Path) -> None:
    first = Store(old_kit)
    kit_id = first.kit_id
    ids = {t: _uuids(first, t) for t in TRAVELLING_TABLES}
    first.close()
    again = Store(old_kit)
    assert again.kit_id == kit_id
    assert {t: _uuids(again, t) for t in TRAVELLING_TABLES} == ids
    again.close()


def test_new_records_get_uuids_and_new_kits_their_own_id(tmp_path: Path,
                                                         old_kit: Path) -> None:
    store = Store(old_kit)
    cls = store.roster.add_class("四年级一班")
    kid = store.roster.add_student(cls.id, "赵磊")
    run = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led", steps_total=1)
    art = store.artefacts.save(run, "sample", "a", b"x", ".jpg")
    for table, row_id in (("classes", cls.id), ("students", kid.id), ("runs", run),
                          ("artefacts", art.id)):
        u = store.identity.uuid(table, row_id)
        assert u and uuid.UUID(u).version == 4
    assert len(set(_uuids(store, "students"))) == 5
    other = Store(tmp_path / "new-kit")
    assert other.kit_id != store.kit_id
    with pytest.raises(ValueError):
        store.identity.uuid("kit_settings", 1)
    other.close()
    store.close()


def test_learn_projects_get_a_uuid_in_their_manifest_once(old_kit: Path) -> None:
    from labkit.learn.dataset import ProjectStore

    manifest = next((old_kit / "learn").glob("*/project.json"))
    assert "uuid" not in json.loads(manifest.read_text("utf-8"))
    project = ProjectStore(old_kit).get(manifest.parent.name)
    assert uuid.UUID(project.uuid).version == 4
    saved = json.loads(project.sealer.read(manifest))        # re-written sealed
    assert not manifest.read_bytes().startswith(b"{")
    assert saved["uuid"] == project.uuid and saved["name"] == "水果"
    assert [c["name"] for c in saved["classes"]] == ["苹果", "香蕉"]
    assert ProjectStore(old_kit).get(project.id).uuid == project.uuid     # kept on reload
    fresh = ProjectStore(old_kit).create("形状", "sensor", ["圆", "方"])
    assert fresh.uuid != project.uuid
