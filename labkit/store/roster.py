"""Classes and students — names only — and importing a class list from a CSV file.

A roster import is all or nothing: every line is checked first and the file is refused with a
list of the bad lines (line numbers as a spreadsheet shows them), so a teacher never ends up
with half a class imported and has to work out which half.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass

from labkit.store.db import Database
from labkit.store.names import CLASS_NAME_MAX, clean_name, name_key
from labkit.store.problems import N_, Problem, RosterImportError

MAX_IMPORT_BYTES = 256 * 1024
MAX_IMPORT_ROWS = 300
NAME_HEADERS = {"name", "names", "student", "student name", "姓名", "名字", "学生", "学生姓名"}


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


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or, as Chinese Excel saves CSV, GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Problem(N_("The roster file is not text in UTF-8 or GBK."),
                  fix=N_("Save the class list as \"CSV UTF-8\" and try again."), code="bad_roster")


def parse_roster_csv(data: bytes) -> list[tuple[int, str]]:
    """(line number, raw name) for each name in a roster CSV.

    Accepts one name per line, or a table whose header has a name column (name / 姓名).
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise Problem(N_("The roster file is too large (%(kb)s KB)."),
                      fix=N_("A class list is a few KB; check you picked the right file."),
                      code="bad_roster", kb=len(data) // 1024)
    text = _decode(data)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise Problem(N_("The roster file is not a readable CSV file (%(reason)s)."),
                      fix=N_("Save the class list from the spreadsheet as CSV."),
                      code="bad_roster", reason=str(exc)) from None
    numbered = [(i + 1, row) for i, row in enumerate(rows) if any(c.strip() for c in row)]
    if not numbered:
        raise Problem(N_("The roster file has no names in it."),
                      fix=N_("Put one name per line, or a column headed \"name\" (姓名)."),
                      code="bad_roster")
    column = 0
    first_line, first_row = numbered[0]
    headers = [c.strip().casefold() for c in first_row]
    named = [i for i, h in enumerate(headers) if h in NAME_HEADERS]
    if named:
        column = named[0]
        numbered = numbered[1:]
    elif any(len([c for c in row if c.strip()]) > 1 for _line, row in numbered):
        raise Problem(N_("The roster file has several columns but none is headed \"name\"."),
                      fix=N_("Add a header row with \"name\" (or 姓名) above the names column."),
                      code="bad_roster")
    if len(numbered) > MAX_IMPORT_ROWS:
        raise Problem(N_("The roster file has %(count)s names; at most %(max)s can be imported "
                         "at once."), fix=N_("Split the list into classes."), code="bad_roster",
                      count=len(numbered), max=MAX_IMPORT_ROWS)
    return [(line, row[column] if column < len(row) else "") for line, row in numbered]


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

    # ---- students -------------------------------------------------------------------------
    def students(self, class_id: int) -> list[Student]:
        self.get_class(class_id)
        rows = self.db.query("SELECT id, class_id, name FROM students WHERE class_id = ? "
                             "ORDER BY name_key", (class_id,))
        return [Student(r["id"], r["class_id"], r["name"]) for r in rows]

    def student(self, class_id: int, student_id: int) -> Student:
        """The student `student_id` if they are in class `class_id`; a 404-style Problem if
        not — a student id from another class is treated exactly like one that does not exist.
        """
        school_class = self.get_class(class_id)
        row = self.db.one("SELECT id, class_id, name FROM students WHERE id = ? AND class_id = ?",
                          (student_id, class_id))
        if row is None:
            raise Problem(N_("There is no student number %(student_id)s in class %(class_name)s."),
                          fix=N_("Pick a name from this class's list."), code="not_found",
                          student_id=student_id, class_name=school_class.name)
        return Student(row["id"], row["class_id"], row["name"])

    def student_by_id(self, student_id: int) -> Student | None:
        row = self.db.one("SELECT id, class_id, name FROM students WHERE id = ?", (student_id,))
        return None if row is None else Student(row["id"], row["class_id"], row["name"])

    def add_student(self, class_id: int, name: object) -> Student:
        return self.add_students(class_id, [name])[0]

    def add_students(self, class_id: int, names: list[object]) -> list[Student]:
        """Add several students in one transaction (all or none)."""
        school_class = self.get_class(class_id)
        cleaned = [clean_name(n) for n in names]
        self._refuse_duplicates(class_id, school_class.name,
                                [(i + 1, n) for i, n in enumerate(cleaned)], by_line=False)
        now = time.time()
        out = []
        with self.db.transaction() as tx:
            for name in cleaned:
                cur = tx.execute("INSERT INTO students (class_id, name, name_key, created_at) "
                                 "VALUES (?, ?, ?, ?)", (class_id, name, name_key(name), now))
                out.append(Student(int(cur.lastrowid or 0), class_id, name))
        return out

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
        """Add every name in a roster CSV to the class — all of them, or none with reasons."""
        school_class = self.get_class(class_id)
        problems: list[tuple[int, Problem]] = []
        cleaned: list[tuple[int, str]] = []
        for line, raw in parse_roster_csv(data):
            try:
                cleaned.append((line, clean_name(raw)))
            except Problem as exc:
                problems.append((line, exc))
        try:
            self._refuse_duplicates(class_id, school_class.name, cleaned, by_line=True)
        except RosterImportError as exc:
            problems.extend(exc.problems)
        if problems:
            raise RosterImportError(sorted(problems, key=lambda p: p[0]))
        return self.add_students(class_id, [name for _line, name in cleaned])

    def _refuse_duplicates(self, class_id: int, class_name: str, names: list[tuple[int, str]],
                           *, by_line: bool) -> None:
        existing = {r["name_key"]: r["name"] for r in self.db.query(
            "SELECT name, name_key FROM students WHERE class_id = ?", (class_id,))}
        seen: dict[str, int] = {}
        problems: list[tuple[int, Problem]] = []
        for line, name in names:
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
