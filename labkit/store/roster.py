"""Classes and students — names and the school's student number (学号) only — and adding a
class list from a CSV or XLSX file or from pasted lines.

A roster import is all or nothing: every line is checked first and the file is refused with a
list of the bad lines (line numbers as a spreadsheet shows them), so a teacher never ends up
with half a class imported and has to work out which half.
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from dataclasses import dataclass

from labkit.store import roster_order
from labkit.store.db import Database
from labkit.store.names import CLASS_NAME_MAX, clean_name, name_key
from labkit.store.problems import N_, Problem, RosterImportError

MAX_IMPORT_BYTES = 256 * 1024
MAX_IMPORT_ROWS = 300
NAME_HEADERS = {"name", "names", "student", "student name", "姓名", "名字", "学生", "学生姓名"}
NUMBER_HEADERS = {"学号", "学籍号", "编号", "序号", "student no", "student no.", "student number",
                  "number", "no", "no."}
STUDENT_NO_MAX = 20
_STUDENT_NO = re.compile(r"[0-9A-Za-z-]{1,%d}" % STUDENT_NO_MAX)
# A pasted line "20230101 王芳", "20230101,王芳" or "20230101<tab>王芳" (copied from a sheet).
_PASTED_NUMBER = re.compile(r"^\s*([0-9][0-9A-Za-z-]{0,%d})[\s,，;；]+(\S.*)$"
                            % (STUDENT_NO_MAX - 1))
XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class SchoolClass:
    id: int
    name: str
    student_count: int = 0


@dataclass(frozen=True)
class Student:
    id: int
    class_id: int
    name: str
    student_no: str = ""


@dataclass(frozen=True)
class RosterLine:
    """One name read from a class list, with the line a spreadsheet shows it on."""
    line: int
    name: str
    student_no: str = ""


# Students listed in the teacher's order: by 学号 (shorter numbers first, so "9" comes before
# "10"), students without one after them in the order they were imported or added — never by
# code point, which scatters a class list a child knows.
STUDENT_ORDER = ("ORDER BY student_no = '', length(student_no), student_no, id")


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or, as Chinese Excel saves CSV, GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Problem(N_("The roster file is not text in UTF-8 or GBK."),
                  fix=N_("Save the class list as \"CSV UTF-8\" and try again."), code="bad_roster")


def clean_student_no(raw: object) -> str:
    """A 学号 as the school writes it (digits, letters, '-'), or '' when there is none.
    A spreadsheet number cell such as 20230101.0 becomes "20230101"."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip()
    if not text:
        return ""
    if not _STUDENT_NO.fullmatch(text):
        raise Problem(N_("\"%(number)s\" is not a student number (学号)."),
                      fix=N_("A student number has only digits and letters, at most %(max)s."),
                      code="bad_name", number=text[:40], max=STUDENT_NO_MAX)
    return text


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(data: bytes) -> list[list[str]]:
    """The first sheet's rows as text; a file that is not a workbook is a clear refusal."""
    from openpyxl import load_workbook  # only a roster import pays for it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Problem(N_("The roster file is not a readable Excel workbook (%(reason)s)."),
                      fix=N_("Save the class list from the spreadsheet as .xlsx or CSV."),
                      code="bad_roster", reason=type(exc).__name__) from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[str]] = []
        for row in sheet.iter_rows(values_only=True, max_col=30):
            rows.append([_cell_text(v) for v in row])
            if len(rows) > MAX_IMPORT_ROWS + 50:
                break
        return rows
    finally:
        book.close()


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise Problem(N_("The roster file is not a readable CSV file (%(reason)s)."),
                      fix=N_("Save the class list from the spreadsheet as CSV."),
                      code="bad_roster", reason=str(exc)) from None


def parse_roster_file(data: bytes) -> list[RosterLine]:
    """Each name in a class list file: CSV (UTF-8 or GBK) or an Excel workbook (.xlsx).

    Accepts one name per line, or a table whose header has a name column (name / 姓名) and
    optionally a student number column (学号), which is kept.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise Problem(N_("The roster file is too large (%(kb)s KB)."),
                      fix=N_("A class list is a few KB; check you picked the right file."),
                      code="bad_roster", kb=len(data) // 1024)
    rows = _read_xlsx(data) if data.startswith(XLSX_MAGIC) else _read_csv(data)
    numbered = [(i + 1, row) for i, row in enumerate(rows) if any(c.strip() for c in row)]
    if not numbered:
        raise Problem(N_("The roster file has no names in it."),
                      fix=N_("Put one name per line, or a column headed \"name\" (姓名)."),
                      code="bad_roster")
    column, number_column = 0, None
    first_line, first_row = numbered[0]
    headers = [c.strip().casefold() for c in first_row]
    named = [i for i, h in enumerate(headers) if h in NAME_HEADERS]
    if named:
        column = named[0]
        numbers = [i for i, h in enumerate(headers) if h in NUMBER_HEADERS]
        number_column = numbers[0] if numbers else None
        numbered = numbered[1:]
    elif any(len([c for c in row if c.strip()]) > 1 for _line, row in numbered):
        raise Problem(N_("The roster file has several columns but none is headed \"name\"."),
                      fix=N_("Add a header row with \"name\" (or 姓名) above the names column."),
                      code="bad_roster")
    if len(numbered) > MAX_IMPORT_ROWS:
        raise Problem(N_("The roster file has %(count)s names; at most %(max)s can be imported "
                         "at once."), fix=N_("Split the list into classes."), code="bad_roster",
                      count=len(numbered), max=MAX_IMPORT_ROWS)

    def cell(row: list[str], i: int | None) -> str:
        return row[i] if i is not None and i < len(row) else ""

    return [RosterLine(line, cell(row, column), cell(row, number_column))
            for line, row in numbered]


def parse_roster_csv(data: bytes) -> list[tuple[int, str]]:
    """(line number, raw name) for each name in a roster file (see `parse_roster_file`)."""
    return [(r.line, r.name) for r in parse_roster_file(data)]


def parse_pasted_names(text: str) -> list[RosterLine]:
    """Names pasted into a box, one per line; a line may start with the 学号
    ("20230101 王芳", or two cells copied from a spreadsheet)."""
    if len(text.encode("utf-8", "replace")) > MAX_IMPORT_BYTES:
        raise Problem(N_("The pasted list is too long."),
                      fix=N_("A class list is a few KB; paste one class at a time."),
                      code="bad_roster")
    out: list[RosterLine] = []
    for i, raw in enumerate(text.splitlines()):
        if not raw.strip():
            continue
        match = _PASTED_NUMBER.match(raw)
        if match:
            out.append(RosterLine(i + 1, match.group(2), match.group(1)))
        else:
            out.append(RosterLine(i + 1, raw.strip().strip(",，;；\t")))
    if not out:
        raise Problem(N_("The pasted list has no names in it."),
                      fix=N_("Put one name per line, optionally after the student number."),
                      code="bad_roster")
    if len(out) > MAX_IMPORT_ROWS:
        raise Problem(N_("The roster file has %(count)s names; at most %(max)s can be imported "
                         "at once."), fix=N_("Split the list into classes."), code="bad_roster",
                      count=len(out), max=MAX_IMPORT_ROWS)
    return out


class Roster:
    """Read and change classes and students."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- classes --------------------------------------------------------------------------
    def classes(self) -> list[SchoolClass]:
        rows = self.db.query(
            "SELECT c.id, c.name, COUNT(s.id) AS n FROM classes c "
            "LEFT JOIN students s ON s.class_id = c.id GROUP BY c.id ORDER BY c.name_key")
        return [SchoolClass(r["id"], r["name"], r["n"]) for r in rows]

    def get_class(self, class_id: int) -> SchoolClass:
        row = self.db.one("SELECT c.id, c.name, (SELECT COUNT(*) FROM students s WHERE "
                          "s.class_id = c.id) AS n FROM classes c WHERE c.id = ?", (class_id,))
        if row is None:
            raise Problem(N_("There is no class number %(class_id)s."),
                          fix=N_("Pick a class from the list."), code="not_found",
                          class_id=class_id)
        return SchoolClass(row["id"], row["name"], row["n"])

    def add_class(self, name: object) -> SchoolClass:
        clean = clean_name(name, max_len=CLASS_NAME_MAX)
        with self.db.transaction() as tx:
            if tx.execute("SELECT 1 FROM classes WHERE name_key = ?",
                          (name_key(clean),)).fetchone():
                raise Problem(N_("A class called \"%(name)s\" already exists."),
                              fix=N_("Use another name, e.g. add the year."), code="conflict",
                              name=clean)
            cur = tx.execute("INSERT INTO classes (name, name_key, created_at) VALUES (?, ?, ?)",
                             (clean, name_key(clean), time.time()))
        return SchoolClass(int(cur.lastrowid or 0), clean, 0)

    def delete_class(self, class_id: int) -> None:
        """Remove a class with its students and all their portfolio rows."""
        self.get_class(class_id)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM classes WHERE id = ?", (class_id,))
            roster_order.forget(tx, class_id)

    # ---- students -------------------------------------------------------------------------
    def students(self, class_id: int) -> list[Student]:
        """The class's students in the order its teacher chose (store/roster_order.py)."""
        self.get_class(class_id)
        rows = self.db.query("SELECT id, class_id, name, student_no FROM students "
                             f"WHERE class_id = ? {STUDENT_ORDER}", (class_id,))
        students = [Student(r["id"], r["class_id"], r["name"], r["student_no"]) for r in rows]
        return roster_order.ordered(students, self.order(class_id))

    def order(self, class_id: int) -> str:
        """How the class's names are listed: number (学号), import or pinyin."""
        return roster_order.get_order(self.db, class_id)

    def set_order(self, class_id: int, order: object) -> str:
        self.get_class(class_id)
        return roster_order.set_order(self.db, class_id, order)

    def student(self, class_id: int, student_id: int) -> Student:
        """The student `student_id` if they are in class `class_id`; a 404-style Problem if
        not — a student id from another class is treated exactly like one that does not exist.
        """
        school_class = self.get_class(class_id)
        row = self.db.one("SELECT id, class_id, name, student_no FROM students "
                          "WHERE id = ? AND class_id = ?", (student_id, class_id))
        if row is None:
            raise Problem(N_("There is no student number %(student_id)s in class %(class_name)s."),
                          fix=N_("Pick a name from this class's list."), code="not_found",
                          student_id=student_id, class_name=school_class.name)
        return Student(row["id"], row["class_id"], row["name"], row["student_no"])

    def student_by_id(self, student_id: int) -> Student | None:
        row = self.db.one("SELECT id, class_id, name, student_no FROM students WHERE id = ?",
                          (student_id,))
        return None if row is None else Student(row["id"], row["class_id"], row["name"],
                                                row["student_no"])

    def add_student(self, class_id: int, name: object) -> Student:
        return self.add_students(class_id, [name])[0]

    def add_students(self, class_id: int, names: list[object],
                     numbers: list[object] | None = None) -> list[Student]:
        """Add several students (and their 学号, if given) in one transaction (all or none)."""
        school_class = self.get_class(class_id)
        cleaned = [clean_name(n) for n in names]
        nos = [clean_student_no(n) for n in (numbers or [""] * len(cleaned))]
        self._refuse_duplicates(class_id, school_class.name,
                                [RosterLine(i + 1, n, no)
                                 for i, (n, no) in enumerate(zip(cleaned, nos, strict=True))], by_line=False)
        now = time.time()
        out = []
        with self.db.transaction() as tx:
            for name, no in zip(cleaned, nos, strict=True):
                cur = tx.execute("INSERT INTO students (class_id, name, name_key, student_no, "
                                 "created_at) VALUES (?, ?, ?, ?, ?)",
                                 (class_id, name, name_key(name), no, now))
                out.append(Student(int(cur.lastrowid or 0), class_id, name, no))
        return out

    def set_student_no(self, class_id: int, student_id: int, number: object) -> Student:
        """Give a student their 学号 (or clear it with ''); unique within the class."""
        student = self.student(class_id, student_id)
        no = clean_student_no(number)
        with self.db.transaction() as tx:
            if no and tx.execute("SELECT 1 FROM students WHERE class_id = ? AND student_no = ? "
                                 "AND id != ?", (class_id, no, student_id)).fetchone():
                raise Problem(N_("Student number %(number)s is already used in this class."),
                              fix=N_("Check the number on the school's list."),
                              code="conflict", number=no)
            tx.execute("UPDATE students SET student_no = ? WHERE id = ?", (no, student.id))
        return Student(student.id, class_id, student.name, no)

    def rename_student(self, class_id: int, student_id: int, name: object) -> Student:
        student = self.student(class_id, student_id)
        clean = clean_name(name)
        with self.db.transaction() as tx:
            clash = tx.execute("SELECT 1 FROM students WHERE class_id = ? AND name_key = ? "
                               "AND id != ?", (class_id, name_key(clean), student_id)).fetchone()
            if clash:
                raise Problem(N_("\"%(name)s\" is already in this class."),
                              fix=N_("Add something to tell them apart, e.g. 王芳 (2)."),
                              code="conflict", name=clean)
            tx.execute("UPDATE students SET name = ?, name_key = ? WHERE id = ?",
                       (clean, name_key(clean), student.id))
        return Student(student.id, class_id, clean)

    def delete_student(self, class_id: int, student_id: int) -> None:
        """Remove a student and their portfolio rows (their saved files are removed by Store)."""
        self.student(class_id, student_id)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM students WHERE id = ? AND class_id = ?", (student_id, class_id))

    def import_csv(self, class_id: int, data: bytes) -> list[Student]:
        """Add every name in a roster file (CSV or XLSX) to the class — all of them, or none
        with reasons."""
        return self.import_lines(class_id, parse_roster_file(data))

    def import_pasted(self, class_id: int, text: str) -> list[Student]:
        """Add every name of a pasted list — all of them, or none with reasons."""
        return self.import_lines(class_id, parse_pasted_names(text))

    def import_lines(self, class_id: int, lines: list[RosterLine]) -> list[Student]:
        school_class = self.get_class(class_id)
        problems: list[tuple[int, Problem]] = []
        cleaned: list[RosterLine] = []
        for entry in lines:
            try:
                cleaned.append(RosterLine(entry.line, clean_name(entry.name),
                                          clean_student_no(entry.student_no)))
            except Problem as exc:
                problems.append((entry.line, exc))
        try:
            self._refuse_duplicates(class_id, school_class.name, cleaned, by_line=True)
        except RosterImportError as exc:
            problems.extend(exc.problems)
        if problems:
            raise RosterImportError(sorted(problems, key=lambda p: p[0]))
        return self.add_students(class_id, [e.name for e in cleaned],
                                 [e.student_no for e in cleaned])

    def _refuse_duplicates(self, class_id: int, class_name: str, names: list[RosterLine],
                           *, by_line: bool) -> None:
        rows = self.db.query("SELECT name, name_key, student_no FROM students WHERE class_id = ?",
                             (class_id,))
        existing = {r["name_key"]: r["name"] for r in rows}
        existing_nos = {r["student_no"] for r in rows if r["student_no"]}
        seen: dict[str, int] = {}
        seen_nos: dict[str, int] = {}
        problems: list[tuple[int, Problem]] = []
        for entry in names:
            line, name, no = entry.line, entry.name, entry.student_no
            if no and no in existing_nos:
                problems.append((line, Problem(
                    N_("Student number %(number)s is already used in class %(class_name)s."),
                    fix=N_("Check the numbers on the school's list."), code="conflict",
                    number=no, class_name=class_name)))
            elif no and no in seen_nos:
                problems.append((line, Problem(
                    N_("Student number %(number)s appears twice (first on line %(first)s)."),
                    fix=N_("Each student needs their own number; check the school's list."),
                    code="conflict", number=no, first=seen_nos[no])))
            elif no:
                seen_nos[no] = line
            key = name_key(name)
            if key in existing:
                problems.append((line, Problem(
                    N_("\"%(name)s\" is already in class %(class_name)s."),
                    fix=N_("Leave them out of the file, or add something to tell them apart, "
                           "e.g. 王芳 (2)."), code="conflict", name=name,
                    class_name=class_name)))
            elif key in seen:
                msgid = (N_("\"%(name)s\" appears twice (first on line %(first)s).") if by_line
                         else N_("\"%(name)s\" appears twice."))
                problems.append((line, Problem(
                    msgid, fix=N_("Add something to tell them apart, e.g. 王芳 (2)."),
                    code="conflict", name=name, first=seen[key])))
            else:
                seen[key] = line
        if problems:
            if not by_line:
                raise problems[0][1]
            raise RosterImportError(problems)
