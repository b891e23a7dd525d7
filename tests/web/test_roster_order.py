"""The teacher chooses the order a class's names are listed in: 学号, import order or pinyin.

The names are chosen so that code point order (安 张 李 王), import order (张 王 安 李) and
pinyin order (安 an, 李 li, 王 wang, 张 zhang) all differ.
"""

from __future__ import annotations

from typing import Any

import pytest

IMPORTED = ["张伟", "王芳", "安娜", "李雷"]


@pytest.fixture
def classes(runtime: Any) -> tuple[Any, Any, Any]:
    from labkit.store import Store

    roster = Store.for_runtime(runtime).roster
    first, other = roster.add_class("一班"), roster.add_class("二班")
    kids = roster.add_students(first.id, IMPORTED, ["", "10", "", "2"])
    roster.add_students(other.id, IMPORTED)
    assert len(kids) == 4
    return roster, first, other


def picker_names(client: Any, class_id: int) -> list[str]:
    html = client.get(f"/student/classes/{class_id}").get_data(as_text=True)
    return sorted(IMPORTED, key=lambda name: html.index(name))


def test_the_name_picker_follows_the_order_the_teacher_chose(
        teacher_client: Any, classes: tuple[Any, Any, Any]) -> None:
    roster, first, other = classes
    assert picker_names(teacher_client, first.id) == ["李雷", "王芳", "张伟", "安娜"]   # 学号
    r = teacher_client.post(f"/teacher/classes/{first.id}/order", data={"order": "pinyin"})
    assert r.status_code == 302
    assert picker_names(teacher_client, first.id) == ["安娜", "李雷", "王芳", "张伟"]
    assert [s.name for s in roster.students(first.id)] == ["安娜", "李雷", "王芳", "张伟"]
    page = teacher_client.get(f"/teacher/classes/{first.id}").get_data(as_text=True)
    assert '<option value="pinyin" selected>' in page
    teacher_client.post(f"/teacher/classes/{first.id}/order", data={"order": "import"})
    assert picker_names(teacher_client, first.id) == IMPORTED
    assert roster.order(other.id) == "number"            # stored per class
    assert picker_names(teacher_client, other.id) == IMPORTED


def test_a_bad_order_is_refused_and_changes_nothing(teacher_client: Any,
                                                    classes: tuple[Any, Any, Any]) -> None:
    roster, first, _other = classes
    teacher_client.post(f"/teacher/classes/{first.id}/order", data={"order": "pinyin"})
    r = teacher_client.post(f"/teacher/classes/{first.id}/order", data={"order": "height"},
                            follow_redirects=True)
    assert "“height”不是一种名单排序方式。" in r.get_data(as_text=True)
    assert roster.order(first.id) == "pinyin"
    assert teacher_client.post("/teacher/classes/999/order",
                               data={"order": "pinyin"}).status_code == 404


def test_only_the_teacher_orders_names(student_client: Any, classes: tuple[Any, Any, Any]
                                       ) -> None:
    roster, first, _other = classes
    r = student_client.post(f"/teacher/classes/{first.id}/order", data={"order": "pinyin"})
    assert r.status_code in (302, 401, 403)
    assert roster.order(first.id) == "number"


def test_a_deleted_class_takes_its_order_with_it(classes: tuple[Any, Any, Any]) -> None:
    roster, _first, other = classes
    roster.set_order(other.id, "pinyin")
    roster.delete_class(other.id)
    again = roster.add_class("三班")
    assert again.id == other.id                     # SQLite gives the newest id again
    assert roster.order(again.id) == "number"
