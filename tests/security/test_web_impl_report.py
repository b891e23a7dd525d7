"""The implementation report pages through the real app: class hours per class and grade
against the targets, labs delivered, students reached, rubric levels; CSV (formula-safe) and
XLSX (two sheets) with the same figures; a printable page with no inline styles; teacher only."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from labkit import steady
from labkit.store.classroom import term_of
from tests.security.web_helpers import LAPTOP, store_of, student, teacher


@pytest.fixture
def term(app: Any) -> dict[str, Any]:
    store = store_of(app)
    c = store.classroom
    low = store.roster.add_class("二年级一班")
    c.set_grade(low.id, 2)
    wang, li, zhou = store.roster.add_students(low.id, ["王芳", "李雷", "周周"])
    mid = store.roster.add_class("-五年级")
    c.set_grade(mid.id, 5)
    high = store.roster.add_class("高一(1)班")
    c.set_grade(high.id, 10)
    for cls, labs, hours, cross in ((low, ["face_led"], 1.0, False),
                                    (low, ["clap_lamp", "face_led"], 2.0, False),
                                    (mid, ["colour_sorter"], 1.0, False),
                                    (high, ["smart_crossing"], 1.0, True)):
        c.end(c.start(cls.id, labs, class_hours=hours, cross_disciplinary=cross).id)
    for kid in (wang, li):
        run = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led", steps_total=1)
        store.runs.finish(run, question="q", answer="a", self_scores={})
    store.runs.set_scores(run, "teacher", {"observe": (2, 3)})
    store.runs.start(zhou.id, lesson_id="clap_lamp", project_id="clap_lamp", steps_total=2)
    return {"name": term_of(steady.now()), "low": low, "mid": mid, "high": high, "wang": wang,
            "client": teacher(app, **LAPTOP)}


def test_the_report_page_counts_the_term(term: dict[str, Any]) -> None:
    r = term["client"].get(f"/teacher/report?term={term['name']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="sum-lessons">4<' in html and 'id="sum-hours">5<' in html
    assert 'id="sum-students">3<' in html and 'id="sum-labs">4' in html
    assert 'data-grade="2"' in html and 'data-grade="5"' in html and 'data-grade="10"' in html
    assert "<svg" in html and 'class="delivered"' in html
    assert "已达到" in html and "尚未达到" in html
    assert " style=" not in html and "<style" not in html      # print CSS lives in console.css
    assert "css/console.css" in html


def test_csv_and_xlsx_carry_the_same_figures(term: dict[str, Any]) -> None:
    client = term["client"]
    r = client.get(f"/teacher/report.csv?term={term['name']}&plain=understood")
    assert r.status_code == 200 and r.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    blank = rows.index([])
    classes, grades = rows[2:blank], rows[blank + 3:]
    by_class = {row[3]: row for row in classes}
    assert set(by_class) == {"二年级一班", "'-五年级", "高一(1)班"}     # no formula runs
    low = by_class["二年级一班"]
    assert low[1] == "2" and low[4] == "2" and low[5] == "3.0" and low[9] == "3"
    assert "已达到" == low[8]
    assert by_class["'-五年级"][8] == "尚未达到"                       # 1 of 9 hours
    assert by_class["高一(1)班"][6] == "1" and by_class["高一(1)班"][8] == "已达到"
    assert [g[1] for g in grades] == ["2", "5", "10"]
    x = client.get(f"/teacher/report.xlsx?term={term['name']}&plain=understood")
    book = load_workbook(io.BytesIO(x.data))
    assert len(book.sheetnames) == 2
    sheet_rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert len(sheet_rows) == 4
    names = {row[3] for row in sheet_rows[1:]}
    assert "-五年级" in names                                          # kept as text
    cell = next(c for row in book[book.sheetnames[0]].iter_rows() for c in row
                if c.value == "-五年级")
    assert cell.data_type == "s"
    assert client.get(f"/teacher/report.pdf?term={term['name']}").status_code == 404


def test_other_terms_bad_terms_and_who_may_see(app: Any, term: dict[str, Any]) -> None:
    client = term["client"]
    empty = client.get("/teacher/report?term=2001-spring").get_data(as_text=True)
    assert 'id="sum-lessons">0<' in empty
    assert client.get("/teacher/report?term=2001-summer").status_code == 404
    assert client.get("/teacher/report.csv?term=x").status_code == 404
    kid = student(app, term["wang"])
    assert kid.get("/teacher/report").status_code == 302
    assert kid.get("/teacher/report.csv").status_code in (302, 401)
