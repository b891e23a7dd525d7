"""Roster: names only, cleaned and checked; CSV import is all or nothing with line numbers."""

from __future__ import annotations

from typing import Any

import pytest

from labkit.store import Problem, RosterImportError, Store
from labkit.store.names import STUDENT_NAME_MAX, clean_name, name_key
from labkit.store.roster import parse_roster_csv
from tests.unit.store.conftest import table_counts


@pytest.mark.parametrize("raw, clean", [
    ("  王芳 ", "王芳"), ("Zhang\u3000 Wei", "Zhang Wei"), ("欧阳·娜娜", "欧阳·娜娜"),
    ("O'Neil-Smith", "O'Neil-Smith"), ("王芳 (2)", "王芳 (2)"), ("e\u0301", "é"),
])
def test_names_are_cleaned(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


@pytest.mark.parametrize("raw, words", [
    ("", "empty"), ("   \u3000 ", "empty"),
    ("王" * (STUDENT_NAME_MAX + 1), "characters long"),
    ("小明😀", "emoji"), ("👍", "emoji"), ("Amy ❤", "emoji"),
    ("Bob\u200bby", "cannot use"), ("Tab\x07", "cannot use"), ("<script>", "emoji or symbol"),
])
def test_bad_names_are_refused_with_the_reason(raw: str, words: str) -> None:
    with pytest.raises(Problem) as exc:
        clean_name(raw)
    assert words in exc.value.message and exc.value.code == "bad_name"


def test_name_keys_ignore_width_case_and_spaces() -> None:
    assert name_key("ＺＨＡＮＧ Wei") == name_key("zhang wei") == name_key("ZhangWei")
    assert name_key("王 芳") == name_key("王芳")


def test_add_and_list_students(store: Store) -> None:
    cls = store.roster.add_class("二年级一班")
    store.roster.add_students(cls.id, ["王芳", "李雷", "Amy"])
    assert sorted(s.name for s in store.roster.students(cls.id)) == ["Amy", "李雷", "王芳"]
    assert store.roster.get_class(cls.id).student_count == 3


def test_duplicate_student_in_a_class_is_refused_and_nothing_added(store: Store) -> None:
    cls = store.roster.add_class("一班")
    store.roster.add_student(cls.id, "王芳")
    with pytest.raises(Problem) as exc:
        store.roster.add_students(cls.id, ["李雷", "王 芳"])
    assert exc.value.code == "conflict" and "already in class" in exc.value.message
    assert [s.name for s in store.roster.students(cls.id)] == ["王芳"]


def test_same_name_in_two_classes_is_fine(store: Store) -> None:
    a, b = store.roster.add_class("一班"), store.roster.add_class("二班")
    store.roster.add_student(a.id, "王芳")
    store.roster.add_student(b.id, "王芳")


def test_duplicate_class_name_is_refused(store: Store) -> None:
    store.roster.add_class("Class 2A")
    with pytest.raises(Problem) as exc:
        store.roster.add_class("class  2a")
    assert exc.value.code == "conflict"


def test_student_from_another_class_is_not_found(store: Store, school: dict[str, Any]) -> None:
    with pytest.raises(Problem) as exc:
        store.roster.student(school["a"].id, school["li"].id)
    assert exc.value.code == "not_found"
    assert f"no student number {school['li'].id} in class 二年级一班" in exc.value.message
    before = table_counts(store)
    with pytest.raises(Problem):
        store.delete_student(school["a"].id, school["li"].id)
    assert table_counts(store) == before
    assert store.roster.student(school["b"].id, school["li"].id).name == "李雷"


def test_rename_checks_the_new_name(store: Store, school: dict[str, Any]) -> None:
    a = school["a"].id
    other = store.roster.add_student(a, "李四")
    with pytest.raises(Problem):
        store.roster.rename_student(a, other.id, "王芳")
    with pytest.raises(Problem):
        store.roster.rename_student(a, other.id, "🙂")
    assert store.roster.rename_student(a, other.id, "李思").name == "李思"


# ---- CSV import -------------------------------------------------------------------------------
def test_csv_one_name_per_line_utf8_bom(store: Store, school: dict[str, Any]) -> None:
    added = store.roster.import_csv(school["a"].id, "\ufeff张三\r\n\r\n李四\r\nAmy Li\r\n".encode())
    assert [s.name for s in added] == ["张三", "李四", "Amy Li"]


def test_csv_with_header_and_other_columns(store: Store, school: dict[str, Any]) -> None:
    data = "学号,姓名,备注\n1,张三,x\n2,李四,\n".encode()
    added = store.roster.import_csv(school["a"].id, data)
    assert [s.name for s in added] == ["张三", "李四"]


def test_csv_saved_by_chinese_excel_in_gbk(store: Store, school: dict[str, Any]) -> None:
    added = store.roster.import_csv(school["a"].id, "姓名\n张三\n欧阳娜娜\n".encode("gbk"))
    assert [s.name for s in added] == ["张三", "欧阳娜娜"]


def test_csv_with_every_kind_of_bad_line_imports_nothing(store: Store,
                                                         school: dict[str, Any]) -> None:
    data = ("name,seat\n"
            "张三,1\n"        # line 2 ok
            ",2\n"            # line 3 empty name
            "张三,3\n"        # line 4 duplicate of line 2
            "小明😀,4\n"      # line 5 emoji
            + "长" * 40 + ",5\n"  # line 6 too long
            "王芳,6\n"        # line 7 already in the class
            "ＺＨＡＮＧ san,7\n"
            "zhang san,8\n"   # line 9 duplicate of line 8 (width/case)
            ).encode()
    before = table_counts(store)
    with pytest.raises(RosterImportError) as exc:
        store.roster.import_csv(school["a"].id, data)
    lines = {line: p.code for line, p in exc.value.problems}
    assert lines == {3: "bad_name", 4: "conflict", 5: "bad_name", 6: "bad_name", 7: "conflict",
                     9: "conflict"}
    assert "nothing was imported" in exc.value.message and "line 3" in exc.value.message
    assert table_counts(store) == before


@pytest.mark.parametrize("data, words", [
    (b"", "no names"), (b"\n , \n", "no names"),
    ("学号,座位\n1,张三\n".encode(), "none is headed"),
    (b"\xff\xfe\x00\x00garbage\x81\x00", "not text"),
    (b"a\n" * 200_000, "too large"),
    ("\n".join(f"学生{i}" for i in range(400)).encode(), "at most"),
])
def test_unusable_csv_files_are_refused(data: bytes, words: str) -> None:
    with pytest.raises(Problem) as exc:
        parse_roster_csv(data)
    assert words in exc.value.message and exc.value.code == "bad_roster"


def test_deleting_a_class_removes_its_students_and_runs(store: Store,
                                                        school: dict[str, Any]) -> None:
    run = store.runs.start(school["wang"].id, lesson_id="face_led", project_id="face_led",
                           steps_total=3)
    store.runs.record_step(run, "look", "face_seen")
    store.delete_class(school["a"].id)
    counts = table_counts(store)
    assert counts["students"] == 1 and counts["runs"] == 0 and counts["step_results"] == 0
