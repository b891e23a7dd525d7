"""The teacher console's class-list routes: pasted names and XLSX files with 学号, refused
whole with line numbers, every POST behind the teacher PIN and a CSRF token."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

from tests.security.web_helpers import LAPTOP, store_of, teacher


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def console(app: Any) -> dict[str, Any]:
    cls = store_of(app).roster.add_class("三年级一班")
    return {"class": cls, "client": teacher(app, **LAPTOP)}


def test_pasted_names_with_numbers_show_in_number_order(app: Any, console: dict) -> None:
    cid = console["class"].id
    r = console["client"].post(f"/teacher/classes/{cid}/paste",
                               data={"names": "20230102 李雷\n20230101\t王芳\nAmy"})
    assert r.status_code == 302
    page = console["client"].get(f"/teacher/classes/{cid}").get_data(as_text=True)
    assert page.index("王芳") < page.index("李雷") < page.index("Amy")
    assert 'value="20230101"' in page


def test_xlsx_upload_and_a_duplicate_number_refused_with_its_line(app: Any,
                                                                  console: dict) -> None:
    cid, client = console["class"].id, console["client"]
    rows: list[list[object]] = [["学号", "姓名"]] + [[100 + i, f"学生{i}"] for i in range(60)]
    rows[30][0] = 100
    r = client.post(f"/teacher/classes/{cid}/import", data={
        "file": (io.BytesIO(_xlsx(rows)), "class.xlsx")}, content_type="multipart/form-data",
        follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "31" in page and "100" in page and store_of(app).roster.students(cid) == []
    rows[30][0] = 999
    client.post(f"/teacher/classes/{cid}/import", data={
        "file": (io.BytesIO(_xlsx(rows)), "class.xlsx")}, content_type="multipart/form-data")
    assert len(store_of(app).roster.students(cid)) == 60


def test_edit_number_and_name_in_one_form(app: Any, console: dict) -> None:
    cid = console["class"].id
    wang, = store_of(app).roster.add_students(cid, ["王芳"])
    console["client"].post(f"/teacher/classes/{cid}/students/{wang.id}/rename",
                           data={"name": "王芳芳", "student_no": "12"})
    assert store_of(app).roster.student(cid, wang.id) == type(wang)(wang.id, cid, "王芳芳", "12")


def test_console_posts_need_csrf_and_the_teacher(app: Any, console: dict) -> None:
    cid = console["class"].id
    no_token = app.test_client()
    no_token.environ_base.update(LAPTOP)
    no_token.post("/teacher/login", data={"pin": "24681357"})   # refused too: no token
    assert no_token.post(f"/teacher/classes/{cid}/paste",
                         data={"names": "王芳"}).status_code == 400
    signed_in = console["client"]
    del signed_in.environ_base["HTTP_X_CSRFTOKEN"]
    assert signed_in.post(f"/teacher/classes/{cid}/paste",
                          data={"names": "王芳"}).status_code == 400
    assert store_of(app).roster.students(cid) == []
