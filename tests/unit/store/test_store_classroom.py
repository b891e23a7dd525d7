"""The classroom: class grades, labs off per class, class sessions (start/end, one at a time,
overdue ones end by themselves, kept when the class is removed), the progress wall's data."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime
from typing import Any

import pytest

from labkit import steady
from labkit.store import Problem, Store
from labkit.store.classroom import MAX_SESSION_SECONDS, Classroom, term_of
from labkit.store.migrations import MIGRATIONS
from labkit.store.progress import (FINISHED, NOT_STARTED, STOPPED, STUCK, WORKING,
                                   progress_wall, wall_counts)
from labkit.store.report import implementation_report

LABS = ["face_led", "clap_lamp", "colour_sorter"]


class Clock:
    def __init__(self) -> None:
        self.t = steady.now()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def room(store: Store) -> dict[str, Any]:
    cls = store.roster.add_class("三年级一班")
    store.classroom.set_grade(cls.id, 3)
    kids = store.roster.add_students(cls.id, ["王芳", "李雷", "Amy"], ["2", "1", "3"])
    return {"class": cls, "kids": kids}


def test_grade_is_checked_and_kept(store: Store, room: dict[str, Any]) -> None:
    cid = room["class"].id
    assert store.classroom.grade(cid) == 3
    for bad in ("0", "13", "三", "", None):
        with pytest.raises(Problem) as exc:
            store.classroom.set_grade(cid, bad)
        assert exc.value.code == "bad_grade"
    assert store.classroom.set_grade(cid, " 5 ") == 5 and store.classroom.grades() == {cid: 5}
    with pytest.raises(Problem) as exc:
        store.classroom.set_grade(999, 3)
    assert exc.value.code == "not_found"


def test_labs_off_outside_a_session_and_only_the_session_labs_during_one(
        store: Store, room: dict[str, Any]) -> None:
    cid = room["class"].id
    assert store.classroom.open_labs(cid, LABS) == set(LABS)
    store.classroom.set_labs_off(cid, ["clap_lamp"])
    assert store.classroom.open_labs(cid, LABS) == {"face_led", "colour_sorter"}
    session = store.classroom.start(cid, ["clap_lamp", "face_led"])
    # the teacher opened clap_lamp for the lesson: the session decides while it runs
    assert store.classroom.open_labs(cid, LABS) == {"clap_lamp", "face_led"}
    store.classroom.end(session.id)
    assert store.classroom.open_labs(cid, LABS) == {"face_led", "colour_sorter"}
    store.classroom.set_labs_off(cid, [])
    assert store.classroom.open_labs(cid, LABS) == set(LABS)


def test_one_running_session_per_class_and_bad_starts_change_nothing(
        store: Store, room: dict[str, Any]) -> None:
    cid = room["class"].id
    other = store.roster.add_class("一年级一班")
    for labs, hours, code in (([], 1.0, "bad_input"), (["x"] * 1 + [f"l{i}" for i in range(20)],
                                                       1.0, "bad_input"),
                              (["face_led"], 7.0, "bad_input")):
        with pytest.raises(Problem) as exc:
            store.classroom.start(cid, labs, class_hours=hours)
        assert exc.value.code == code
    with pytest.raises(Problem) as exc:
        store.classroom.start(other.id, ["face_led"])      # no grade set yet
    assert exc.value.code == "bad_grade"
    assert store.classroom.sessions() == []
    first = store.classroom.start(cid, ["face_led", "face_led"], class_hours=2.0)
    assert first.running and first.lab_ids == ("face_led",) and first.grade == 3
    assert uuid.UUID(first.uuid).version == 4 and first.class_name == "三年级一班"
    with pytest.raises(Problem) as exc:
        store.classroom.start(cid, ["clap_lamp"])
    assert exc.value.code == "conflict"
    ended = store.classroom.end(first.id)
    assert not ended.running and ended.ended_at >= ended.started_at
    assert store.classroom.end(first.id).ended_at == ended.ended_at   # ending twice: no change
    assert store.classroom.start(cid, ["clap_lamp"]).running
    with pytest.raises(Problem) as exc:
        store.classroom.end(12345)
    assert exc.value.code == "not_found"


def test_a_forgotten_session_ends_by_itself(store: Store, room: dict[str, Any]) -> None:
    clock = Clock()
    classroom = Classroom(store.db, clock=clock)
    cid = room["class"].id
    session = classroom.start(cid, ["face_led"])
    clock.t += MAX_SESSION_SECONDS + 1
    assert classroom.running(cid) is None
    assert classroom.get(session.id).ended_at == pytest.approx(
        session.started_at + MAX_SESSION_SECONDS)
    assert classroom.open_labs(cid, LABS) == set(LABS)


def test_sessions_stay_counted_after_the_class_is_removed(store: Store,
                                                          room: dict[str, Any]) -> None:
    cid = room["class"].id
    store.classroom.end(store.classroom.start(cid, ["face_led"]).id)
    store.classroom.start(cid, ["clap_lamp"], class_hours=2.0)
    records = store.classroom.records(store.kit_id)
    store.delete_class(cid)
    after = store.classroom.records(store.kit_id)
    assert after == records and len(after) == 2
    classes, grades = implementation_report(after, [], [], semester_weeks=18)
    assert classes[0].sessions == 2 and classes[0].hours == 3.0 and grades[3].hours == 3.0


def test_terms() -> None:
    def ts(y: int, m: int) -> float:
        return datetime(y, m, 15, 12).timestamp()

    assert term_of(ts(2026, 9)) == "2026-autumn" and term_of(ts(2027, 1)) == "2026-autumn"
    assert term_of(ts(2027, 2)) == "2027-spring" and term_of(ts(2027, 7)) == "2027-spring"


def test_migration_applies_on_the_previous_schema(data_dir: Any) -> None:
    path = data_dir / "labkit.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, statements in enumerate(MIGRATIONS[:-1], start=1):
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version={number}")
    conn.execute("INSERT INTO classes (name, name_key, created_at) VALUES ('甲', '甲', 0)")
    conn.close()
    store = Store(data_dir)
    try:
        assert store.db.version == len(MIGRATIONS)
        store.classroom.set_grade(1, 2)
        assert store.classroom.start(1, ["face_led"]).class_name == "甲"
    finally:
        store.close()


def test_progress_wall(store: Store, room: dict[str, Any]) -> None:
    cid = room["class"].id
    wang, li, amy = room["kids"]
    before = store.runs.start(amy.id, lesson_id="face_led", project_id="face_led", steps_total=3)
    store.runs.end(before, "finished")            # before the session: not on the wall
    session = store.classroom.start(cid, ["face_led", "clap_lamp"])
    done = store.runs.start(wang.id, lesson_id="face_led", project_id="face_led", steps_total=2)
    store.runs.record_step(done, "a", "a")
    store.runs.record_step(done, "b", "b")
    store.runs.end(done, "finished")
    now_run = store.runs.start(wang.id, lesson_id="clap_lamp", project_id="clap_lamp",
                               steps_total=3)
    store.runs.record_step(now_run, "a", "a")
    slow = store.runs.start(li.id, lesson_id="face_led", project_id="face_led", steps_total=3)
    now = steady.now()
    wall = progress_wall(store.db, session, now)
    assert [e.name for e in wall] == ["李雷", "王芳", "Amy"]     # 学号 order
    by = {e.name: e for e in wall}
    assert by["王芳"].state == WORKING and by["王芳"].lab_id == "clap_lamp"
    assert (by["王芳"].steps_passed, by["王芳"].steps_total) == (1, 3)
    assert by["王芳"].finished == ["face_led"]
    assert by["李雷"].state == WORKING and by["Amy"].state == NOT_STARTED
    later = progress_wall(store.db, session, now + 301)
    assert {e.name: e.state for e in later} == {"李雷": STUCK, "王芳": STUCK, "Amy": NOT_STARTED}
    errs = progress_wall(store.db, session, now, errors={slow: 2})
    assert {e.name: e.state for e in errs}["李雷"] == STUCK
    store.runs.end(slow, "stopped")
    store.runs.finish(now_run, question="q", answer="a", self_scores={})
    final = {e.name: e for e in progress_wall(store.db, session, now + 301)}
    assert final["李雷"].state == STOPPED
    assert final["王芳"].state == FINISHED and final["王芳"].finished == ["face_led", "clap_lamp"]
    assert wall_counts(list(final.values())) == {NOT_STARTED: 1, WORKING: 0, STUCK: 0,
                                                 FINISHED: 1, STOPPED: 1}


def test_progress_wall_for_forty_students(store: Store) -> None:
    cls = store.roster.add_class("初一(3)班")
    store.classroom.set_grade(cls.id, 7)
    kids = store.roster.add_students(cls.id, [f"学生{i:02d}" for i in range(40)],
                                     [str(i + 1) for i in range(40)])
    session = store.classroom.start(cls.id, ["face_led"])
    for i, kid in enumerate(kids):
        run = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led",
                               steps_total=3)
        for step in range(i % 4):
            store.runs.record_step(run, f"s{step}", "c")
    wall = progress_wall(store.db, session, steady.now())
    assert len(wall) == 40 and [e.student_no for e in wall] == [str(i + 1) for i in range(40)]
    assert [e.steps_passed for e in wall] == [i % 4 for i in range(40)]
