"""Class lists with 学号: XLSX and pasted lists, numbers kept and used for ordering, a duplicate
number refuses the whole list (nothing added)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from labkit.store import Problem, RosterImportError, Store
from labkit.store.roster import parse_pasted_names, parse_roster_file


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sixty(duplicate_at: int | None = None) -> list[tuple[str, str]]:
    """60 (学号, name) pairs, numbers 20230101…; optionally one number repeated."""
    pairs = [(str(20230101 + i), f"学生{i:02d}") for i in range(60)]
    if duplicate_at is not None:
        pairs[duplicate_at] = (pairs[3][0], pairs[duplicate_at][1])
    return pairs


def test_xlsx_import_keeps_numbers_and_orders_by_them(store: Store) -> None:
    cls = store.roster.add_class("三年级一班")
    data = _xlsx([["学号", "姓名", "性别"], [20230103, "王芳", "女"], [20230101, "李雷", "男"],
                  [9, "Amy", ""], [None, "张三", ""]])
    added = store.roster.import_csv(cls.id, data)
    assert len(added) == 4
    listed = [(s.student_no, s.name) for s in store.roster.students(cls.id)]
    assert listed == [("9", "Amy"), ("20230101", "李雷"), ("20230103", "王芳"), ("", "张三")]


def test_gbk_csv_with_student_numbers(store: Store) -> None:
    cls = store.roster.add_class("一班")
    data = "学号,姓名\n2,欧阳娜娜\n1,张三\n".encode("gbk")
    store.roster.import_csv(cls.id, data)
    assert [(s.student_no, s.name) for s in store.roster.students(cls.id)] == [
        ("1", "张三"), ("2", "欧阳娜娜")]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_sixty_names_with_a_duplicate_number_are_refused_whole(store: Store,
                                                                encoding: str) -> None:
    cls = store.roster.add_class("一班")
    lines = ["学号,姓名"] + [f"{no},{name}" for no, name in _sixty(duplicate_at=47)]
    with pytest.raises(RosterImportError) as exc:
        store.roster.import_csv(cls.id, "\r\n".join(lines).encode(encoding))
    (line, problem), = exc.value.problems
    assert line == 49 and problem.code == "conflict"   # header + 48th name, as a sheet shows it
    assert "20230104" in problem.message and "line 5" in problem.message
    assert store.roster.students(cls.id) == []


def test_sixty_names_with_a_duplicate_number_in_xlsx_are_refused(store: Store) -> None:
    cls = store.roster.add_class("一班")
    data = _xlsx([["学号", "姓名"]] + [[int(no), name] for no, name in _sixty(duplicate_at=10)])
    with pytest.raises(RosterImportError) as exc:
        store.roster.import_csv(cls.id, data)
    assert [line for line, _p in exc.value.problems] == [12]
    assert store.roster.students(cls.id) == []


def test_sixty_names_without_duplicates_import(store: Store) -> None:
    cls = store.roster.add_class("一班")
    pasted = "\n".join(f"{no}\t{name}" for no, name in reversed(_sixty()))
    assert len(store.roster.import_pasted(cls.id, pasted)) == 60
    numbers = [s.student_no for s in store.roster.students(cls.id)]
    assert numbers == sorted(numbers) and len(numbers) == 60


def test_number_already_in_the_class_is_refused(store: Store) -> None:
    cls = store.roster.add_class("一班")
    store.roster.import_pasted(cls.id, "7 王芳")
    with pytest.raises(RosterImportError) as exc:
        store.roster.import_pasted(cls.id, "李雷\n7 张三")
    assert [line for line, _p in exc.value.problems] == [2]
    assert "already used" in exc.value.problems[0][1].message
    assert [s.name for s in store.roster.students(cls.id)] == ["王芳"]


@pytest.mark.parametrize("text, expected", [
    ("王芳\n\n李雷\n", [(1, "王芳", ""), (3, "李雷", "")]),
    ("20230101 王芳\n20230102,李雷\n20230103\tAmy Li", [
        (1, "王芳", "20230101"), (2, "李雷", "20230102"), (3, "Amy Li", "20230103")]),
    ("20230101，欧阳·娜娜", [(1, "欧阳·娜娜", "20230101")]),
])
def test_pasted_lines(text: str, expected: list[tuple[int, str, str]]) -> None:
    assert [(r.line, r.name, r.student_no) for r in parse_pasted_names(text)] == expected


def test_empty_paste_and_bad_number_are_clear(store: Store) -> None:
    with pytest.raises(Problem) as exc:
        parse_pasted_names(" \n\n")
    assert exc.value.code == "bad_roster"
    cls = store.roster.add_class("一班")
    with pytest.raises(RosterImportError) as bad:
        store.roster.import_csv(cls.id, "学号,姓名\n12#3,王芳\n".encode())
    assert "not a student number" in bad.value.problems[0][1].message


def test_not_a_workbook_is_refused() -> None:
    with pytest.raises(Problem) as exc:
        parse_roster_file(b"PK\x03\x04" + b"garbage" * 20)
    assert exc.value.code == "bad_roster" and "Excel" in exc.value.message


def test_edit_a_number_and_refuse_a_taken_one(store: Store) -> None:
    cls = store.roster.add_class("一班")
    wang, li = store.roster.add_students(cls.id, ["王芳", "李雷"], ["2", "1"])
    assert store.roster.set_student_no(cls.id, wang.id, "3").student_no == "3"
    with pytest.raises(Problem) as exc:
        store.roster.set_student_no(cls.id, wang.id, "1")
    assert exc.value.code == "conflict"
    assert store.roster.student(cls.id, wang.id).student_no == "3"
    assert store.roster.set_student_no(cls.id, li.id, "").student_no == ""
