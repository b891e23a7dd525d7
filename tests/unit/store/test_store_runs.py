"""Runs and the portfolio rows: steps once, finishing atomically, scores, kept files."""

from __future__ import annotations

import time
from typing import Any

import pytest

from labkit.store import Problem, Store
from tests.unit.store.conftest import table_counts


def _run(store: Store, student: Any) -> int:
    return store.runs.start(student.id, lesson_id="face_led", project_id="face_led",
                            steps_total=3, title_zh="看见你，灯就亮", title_en="The light that sees you")


def test_a_run_records_steps_once_with_the_first_time(store: Store, school: dict[str, Any]) -> None:
    run_id = _run(store, school["wang"])
    assert store.runs.record_step(run_id, "look", "face_seen", at=100.0)
    assert not store.runs.record_step(run_id, "look", "face_seen", at=200.0)
    run = store.runs.get(run_id)
    assert run.status == "running" and run.steps_passed == 1 and run.steps[0].passed_at == 100.0
    assert run.title("en") == "The light that sees you" and run.title("zh_CN") == "看见你，灯就亮"


def test_finish_saves_reflection_scores_and_status_together(store: Store,
                                                            school: dict[str, Any]) -> None:
    run_id = _run(store, school["wang"])
    store.runs.finish(run_id, question="怎么知道的？", answer="  摄像头看到我的脸 ",
                      self_scores={"observe": (2, 3), "rule": (3, 3)})
    run = store.runs.get(run_id)
    assert run.status == "finished" and run.ended_at is not None
    assert run.reflection == "摄像头看到我的脸" and run.reflection_question == "怎么知道的？"
    assert {c: (s.level, s.max_level) for c, s in run.scores_by("self").items()} == \
        {"observe": (2, 3), "rule": (3, 3)}
    with pytest.raises(Problem) as exc:
        store.runs.finish(run_id, question="q", answer="again", self_scores={})
    assert exc.value.code == "conflict"


@pytest.mark.parametrize("answer, scores", [
    ("", {"observe": (2, 3)}),
    ("x" * 2001, {"observe": (2, 3)}),
    ("ok", {"observe": (4, 3)}),
    ("ok", {"observe": (0, 3)}),
])
def test_bad_finish_writes_nothing(store: Store, school: dict[str, Any], answer: str,
                                   scores: dict[str, tuple[int, int]]) -> None:
    run_id = _run(store, school["wang"])
    before = table_counts(store)
    with pytest.raises(Problem):
        store.runs.finish(run_id, question="q", answer=answer, self_scores=scores)
    assert table_counts(store) == before
    assert store.runs.get(run_id).status == "running"


def test_teacher_scores_are_kept_apart_from_self_scores(store: Store,
                                                        school: dict[str, Any]) -> None:
    run_id = _run(store, school["wang"])
    store.runs.set_scores(run_id, "teacher", {"observe": (1, 3)})
    store.runs.set_scores(run_id, "teacher", {"observe": (3, 3)})
    store.runs.finish(run_id, question="q", answer="a", self_scores={"observe": (2, 3)})
    run = store.runs.get(run_id)
    assert run.scores_by("teacher")["observe"].level == 3
    assert run.scores_by("self")["observe"].level == 2


def test_runs_left_running_by_a_crash_become_interrupted(store: Store,
                                                         school: dict[str, Any]) -> None:
    run_id = _run(store, school["wang"])
    store.runs.record_step(run_id, "look", "face_seen", at=time.time() + 5)
    done = _run(store, school["wang"])
    store.runs.end(done, "stopped")
    assert store.runs.interrupt_dangling() == 1
    run = store.runs.get(run_id)
    assert run.status == "interrupted" and run.ended_at == run.steps[0].passed_at
    assert store.runs.get(done).status == "stopped"


def test_unknown_student_or_run_is_clear(store: Store) -> None:
    with pytest.raises(Problem) as exc:
        store.runs.start(999, lesson_id="x", project_id="x", steps_total=1)
    assert exc.value.code == "need_student"
    with pytest.raises(Problem) as exc:
        store.runs.get(12345)
    assert exc.value.code == "not_found"


def test_runs_for_a_class_only_include_that_class(store: Store, school: dict[str, Any]) -> None:
    a_run, b_run = _run(store, school["wang"]), _run(store, school["li"])
    assert [r.id for r in store.runs.for_class(school["a"].id)] == [a_run]
    assert [r.id for r in store.runs.for_class(school["b"].id)] == [b_run]


# ---- kept files ------------------------------------------------------------------------------
def test_kept_files_are_written_atomically_and_checked(store: Store,
                                                       school: dict[str, Any]) -> None:
    run_id = _run(store, school["wang"])
    art = store.artefacts.save(run_id, "sample", "照片 1", b"\xff\xd8jpegdata", ".jpg")
    assert store.artefacts.read(art) == b"\xff\xd8jpegdata"
    path = store.artefacts.path(art)
    assert path.is_file() and not list(path.parent.glob(".*.tmp"))
    assert store.runs.get(run_id).artefacts[0].name == "照片 1"
    path.write_bytes(b"tampered")
    with pytest.raises(Problem) as exc:
        store.artefacts.read(art)
    assert "damaged" in exc.value.message


@pytest.mark.parametrize("kind, suffix, size", [
    ("sample", ".exe", 10), ("model", ".jpg", 10), ("sample", ".jpg", 9 * 1024 * 1024),
])
def test_bad_kept_files_are_refused_and_nothing_written(store: Store, school: dict[str, Any],
                                                        kind: str, suffix: str, size: int) -> None:
    run_id = _run(store, school["wang"])
    with pytest.raises(Problem):
        store.artefacts.save(run_id, kind, "x", b"0" * size, suffix)
    assert table_counts(store)["artefacts"] == 0
    assert not (store.artefacts.root).exists() or not any(store.artefacts.root.rglob("*.*"))


def test_removing_a_student_removes_their_files(store: Store, school: dict[str, Any]) -> None:
    run_id = _run(store, school["wang"])
    art = store.artefacts.save(run_id, "model", "my model", b"onnx", ".onnx")
    path = store.artefacts.path(art)
    store.delete_student(school["a"].id, school["wang"].id)
    assert not path.exists() and table_counts(store)["runs"] == 0
