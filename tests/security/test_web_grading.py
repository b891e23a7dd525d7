"""Grading a whole class on one screen (levels + 评语) and the grade sheet: one row per
student × lab — students with no runs included — one column per criterion, CSV and XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from labkit.curriculum import load
from tests.security.web_helpers import LAPTOP, store_of, teacher

LAB = "face_led"


@pytest.fixture
def criteria() -> list[str]:
    return [c["id"] for c in load().lessons[LAB].criteria]


@pytest.fixture
def room(app: Any) -> dict[str, Any]:
    store = store_of(app)
    cls = store.roster.add_class("三年级一班")
    wang, li, amy = store.roster.add_students(cls.id, ["王芳", "李雷", "Amy"], ["2", "1", "3"])
    other = store.roster.add_class("三年级二班")
    zhang, = store.roster.add_students(other.id, ["张三"])
    old = store.runs.start(wang.id, lesson_id=LAB, project_id=LAB, steps_total=3)
    store.runs.end(old, "stopped")
    run = store.runs.start(wang.id, lesson_id=LAB, project_id=LAB, steps_total=3)
    store.runs.end(run, "finished")
    return {"class": cls, "wang": wang, "li": li, "amy": amy, "zhang": zhang, "run": run,
            "client": teacher(app, **LAPTOP)}


def _form(room: dict[str, Any], criteria: list[str], **over: str) -> dict[str, str]:
    form = {f"comment-{room[k].id}": "" for k in ("wang", "li", "amy")}
    form[f"level-{room['wang'].id}-{criteria[0]}"] = "2"
    form[f"comment-{room['wang'].id}"] = "观察仔细，继续加油。"
    form[f"comment-{room['li'].id}"] = "下次记得做实验。"
    form[f"comment-{room['amy'].id}"] = "=SUM(A1)"
    form.update(over)
    return form


def test_whole_class_screen_lists_everyone_in_number_order(room: dict[str, Any]) -> None:
    page = room["client"].get(f"/teacher/classes/{room['class'].id}/grading?lab={LAB}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("李雷") < html.index("王芳") < html.index("Amy")
    assert html.count("<textarea name=\"comment-") == 3


def test_saving_the_screen_writes_levels_on_the_latest_run_and_comments(
        app: Any, room: dict[str, Any], criteria: list[str]) -> None:
    cid = room["class"].id
    r = room["client"].post(f"/teacher/classes/{cid}/grading?lab={LAB}",
                            data=_form(room, criteria))
    assert r.status_code == 302
    store = store_of(app)
    assert store.runs.get(room["run"]).scores_by("teacher")[criteria[0]].level == 2
    comments = store.grading.comments_for_class(cid)
    assert comments == {(room["wang"].id, LAB): "观察仔细，继续加油。",
                        (room["li"].id, LAB): "下次记得做实验。", (room["amy"].id, LAB): "=SUM(A1)"}
    html = room["client"].get(f"/teacher/classes/{cid}/grading?lab={LAB}").get_data(as_text=True)
    assert "观察仔细" in html and 'value="2" title=' in html


def test_a_bad_level_or_a_level_without_a_run_saves_nothing(
        app: Any, room: dict[str, Any], criteria: list[str]) -> None:
    cid = room["class"].id
    for bad in ({f"level-{room['wang'].id}-{criteria[0]}": "9"},
                {f"level-{room['li'].id}-{criteria[0]}": "1"},
                {f"comment-{room['amy'].id}": "长" * 501}):
        r = room["client"].post(f"/teacher/classes/{cid}/grading?lab={LAB}",
                                data=_form(room, criteria, **bad), follow_redirects=True)
        assert "Nothing was saved" in r.get_data(as_text=True) or \
            "没有保存" in r.get_data(as_text=True)
    store = store_of(app)
    assert store.runs.get(room["run"]).scores_by("teacher") == {}
    assert store.grading.comments_for_class(cid) == {}


def test_another_class_student_cannot_be_graded_here(app: Any, room: dict[str, Any]) -> None:
    from labkit.store import Problem
    from labkit.store.grading import StudentGrade

    with pytest.raises(Problem) as exc:
        store_of(app).grading.save_class(room["class"].id, LAB,
                                         [StudentGrade(room["zhang"].id, None, {}, "hi")])
    assert exc.value.code == "not_found"
    assert store_of(app).grading.comments_for_class(room["class"].id) == {}


def _sheet(room: dict[str, Any], fmt: str) -> list[list[Any]]:
    r = room["client"].get(f"/teacher/classes/{room['class'].id}/grades.{fmt}?plain=understood")
    assert r.status_code == 200
    if fmt == "csv":
        return list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    book = load_workbook(io.BytesIO(r.data))
    return [["" if v is None else v for v in row] for row in book.active.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_grade_sheet_one_row_per_student_and_lab_one_column_per_criterion(
        app: Any, room: dict[str, Any], criteria: list[str], fmt: str) -> None:
    room["client"].post(f"/teacher/classes/{room['class'].id}/grading?lab={LAB}",
                        data=_form(room, criteria))
    header, *rows = _sheet(room, fmt)
    assert len(header) == 8 + len(criteria) + 1
    assert len(rows) == 3                                    # everyone, runs or not
    assert [r[0] for r in rows] == ["1", "2", "3"]           # 学号 order, kept as text
    by_name = {r[1]: r for r in rows}
    col = 8                                                  # first criterion column
    assert str(by_name["王芳"][col]) == "2" and by_name["王芳"][-1] == "观察仔细，继续加油。"
    assert by_name["李雷"][col] == "" and by_name["李雷"][-1] == "下次记得做实验。"
    assert {r[3] for r in rows} == {LAB}
    amy = [r for r in rows if r[0] == "3"][0]
    assert amy[-1] == ("'=SUM(A1)" if fmt == "csv" else "=SUM(A1)")   # text, not a formula
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(room["client"].get(
            f"/teacher/classes/{room['class'].id}/grades.xlsx?plain=understood").data))
        assert book.active.cell(row=4, column=len(header)).data_type == "s"


def test_grade_sheet_of_a_class_with_no_runs_still_lists_the_students(
        app: Any, room: dict[str, Any]) -> None:
    r = room["client"].get(f"/teacher/classes/{room['zhang'].class_id}/grades.csv?lab={LAB}&plain=understood")
    header, *rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [row[1] for row in rows] == ["张三"] and rows[0][3] == LAB


def test_unknown_lab_or_format_is_404_and_posts_need_csrf(app: Any, room: dict[str, Any]) -> None:
    cid = room["class"].id
    assert room["client"].get(f"/teacher/classes/{cid}/grades.pdf").status_code == 404
    assert room["client"].get(f"/teacher/classes/{cid}/grading?lab=nope").status_code == 404
    client = room["client"]
    del client.environ_base["HTTP_X_CSRFTOKEN"]
    assert client.post(f"/teacher/classes/{cid}/grading?lab={LAB}",
                       data={f"comment-{room['li'].id}": "x"}).status_code == 400
    anonymous = app.test_client()
    assert anonymous.get(f"/teacher/classes/{cid}/grades.csv").status_code in (302, 403)
    assert store_of(app).grading.comments_for_class(cid) == {}
