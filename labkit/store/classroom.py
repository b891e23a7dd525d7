"""The classroom: each class's school grade, which labs a class may open, and class sessions.

A *class session* is one lesson given to a class: the teacher starts it with the labs that are
open, the class's students see only those labs while it runs, and the teacher ends it. Sessions
are what the implementation report counts (class hours delivered per grade), so a session row
keeps the class's name, UUID and grade as they were when it started: a class removed at the
end of a term leaves its delivered hours on record.

Outside a session, a class sees every lab of the kit except those the teacher switched off
for it. The rule for "may this class open this lab now" lives here (`open_labs`), once, for
the lab picker, the lab page and the start API alike.

A session left running (the teacher forgot to end it) ends by itself `MAX_SESSION_SECONDS`
after it started, so a class is not held to one lesson's labs the next day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from labkit import steady
from labkit.store.db import Database
from labkit.store.problems import N_, Problem
from labkit.store.report import SessionRecord

GRADES = tuple(range(1, 13))
MAX_SESSION_SECONDS = 4 * 3600.0
MAX_LABS_PER_SESSION = 20
CLASS_HOURS = (0.5, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class ClassSession:
    id: int
    uuid: str
    class_id: int | None
    class_uuid: str
    class_name: str
    grade: int
    lab_ids: tuple[str, ...]
    class_hours: float
    cross_disciplinary: bool
    started_at: float
    ended_at: float | None

    @property
    def running(self) -> bool:
        return self.ended_at is None

    @property
    def term(self) -> str:
        return term_of(self.started_at)


def term_of(when: float) -> str:
    """The school term a moment falls in: "2026-autumn" (August–January) or "2026-spring"
    (February–July), in the kit's local time. January belongs to the autumn term that began
    the August before."""
    day = datetime.fromtimestamp(when)
    if day.month >= 8:
        return f"{day.year}-autumn"
    if day.month == 1:
        return f"{day.year - 1}-autumn"
    return f"{day.year}-spring"


def term_bounds(term: str) -> tuple[float, float]:
    """[start, end) of a term named like term_of() names it, in the kit's local time."""
    try:
        year_text, kind = term.split("-")
        year = int(year_text)
    except ValueError:
        raise Problem(N_("There is no term \"%(term)s\"."), code="not_found",
                      term=term[:20]) from None
    if kind == "autumn" and 2000 <= year <= 2200:
        return datetime(year, 8, 1).timestamp(), datetime(year + 1, 2, 1).timestamp()
    if kind == "spring" and 2000 <= year <= 2200:
        return datetime(year, 2, 1).timestamp(), datetime(year, 8, 1).timestamp()
    raise Problem(N_("There is no term \"%(term)s\"."), code="not_found", term=term[:20])


def check_grade(raw: object) -> int:
    try:
        grade = int(str(raw).strip())
    except ValueError:
        grade = 0
    if grade not in GRADES:
        raise Problem(N_("Pick the class's grade (1 to 12)."),
                      fix=N_("Grades 1–6 are primary, 7–9 middle and 10–12 high school."),
                      code="bad_grade")
    return grade


def _session_from(row: object) -> ClassSession:
    r = row
    return ClassSession(
        r["id"], r["uuid"], r["class_id"], r["class_uuid"], r["class_name"],  # type: ignore
        r["grade"], tuple(json.loads(r["lab_ids"])), float(r["class_hours"]),  # type: ignore
        bool(r["cross_disciplinary"]), r["started_at"], r["ended_at"])  # type: ignore[index]


class Classroom:
    """Grades, labs per class and class sessions of one kit."""

    def __init__(self, db: Database, clock: Callable[[], float] = steady.now) -> None:
        self.db = db
        self.clock = clock

    # ---- grades ---------------------------------------------------------------------------
    def grade(self, class_id: int) -> int | None:
        row = self.db.one("SELECT grade FROM class_grades WHERE class_id = ?", (class_id,))
        return int(row["grade"]) if row else None

    def grades(self) -> dict[int, int]:
        """{class id: grade} for every class whose grade is set."""
        return {r["class_id"]: r["grade"] for r in self.db.query("SELECT * FROM class_grades")}

    def set_grade(self, class_id: int, grade: object) -> int:
        value = check_grade(grade)
        with self.db.transaction() as tx:
            self._class_row(tx, class_id)
            tx.execute("INSERT INTO class_grades (class_id, grade) VALUES (?, ?) "
                       "ON CONFLICT (class_id) DO UPDATE SET grade = excluded.grade",
                       (class_id, value))
        return value

    # ---- labs on/off ----------------------------------------------------------------------
    def labs_off(self, class_id: int) -> set[str]:
        rows = self.db.query("SELECT lesson_id FROM class_labs_off WHERE class_id = ?",
                             (class_id,))
        return {r["lesson_id"] for r in rows}

    def set_labs_off(self, class_id: int, lesson_ids: Iterable[str]) -> set[str]:
        """Switch off exactly these labs for the class (every other lab is on)."""
        wanted = {str(x) for x in lesson_ids}
        with self.db.transaction() as tx:
            self._class_row(tx, class_id)
            tx.execute("DELETE FROM class_labs_off WHERE class_id = ?", (class_id,))
            tx.executemany("INSERT INTO class_labs_off (class_id, lesson_id) VALUES (?, ?)",
                           [(class_id, lab) for lab in sorted(wanted)])
        return wanted

    def open_labs(self, class_id: int, all_labs: Iterable[str]) -> set[str]:
        """The labs this class's students may open now: the running session's labs, else
        every lab not switched off for the class."""
        labs = set(all_labs)
        running = self.running(class_id)
        if running is not None:
            return labs & set(running.lab_ids)
        return labs - self.labs_off(class_id)

    # ---- sessions -------------------------------------------------------------------------
    def start(self, class_id: int, lab_ids: Iterable[str], *, class_hours: float = 1.0,
              cross_disciplinary: bool = False) -> ClassSession:
        """Start a lesson for the class with these labs open; the class's grade must be set."""
        labs = list(dict.fromkeys(str(x) for x in lab_ids))
        if not labs:
            raise Problem(N_("Pick at least one lab for this lesson."), code="bad_input")
        if len(labs) > MAX_LABS_PER_SESSION:
            raise Problem(N_("A lesson opens at most %(max)s labs."), code="bad_input",
                          max=MAX_LABS_PER_SESSION)
        if class_hours not in CLASS_HOURS:
            raise Problem(N_("A lesson lasts 0.5, 1, 1.5, 2 or 3 class hours."),
                          code="bad_input")
        self.end_overdue()
        now = self.clock()
        with self.db.transaction() as tx:
            cls = self._class_row(tx, class_id)
            grade = tx.execute("SELECT grade FROM class_grades WHERE class_id = ?",
                               (class_id,)).fetchone()
            if grade is None:
                raise Problem(N_("Set the class's grade first: the report counts lessons per "
                                 "grade."), fix=N_("Pick the grade above and start again."),
                              code="bad_grade")
            if tx.execute("SELECT 1 FROM class_sessions WHERE class_id = ? AND ended_at IS "
                          "NULL", (class_id,)).fetchone():
                raise Problem(N_("A lesson is already running for %(name)s."),
                              fix=N_("End it first, then start the next one."),
                              code="conflict", name=cls["name"])
            cur = tx.execute(
                "INSERT INTO class_sessions (class_id, class_uuid, class_name, grade, lab_ids, "
                "class_hours, cross_disciplinary, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (class_id, cls["uuid"], cls["name"], grade["grade"], json.dumps(labs),
                 class_hours, int(cross_disciplinary), now))
        return self.get(int(cur.lastrowid or 0))

    def end(self, session_id: int) -> ClassSession:
        """End a running session (ending one already ended changes nothing)."""
        self.get(session_id)
        with self.db.transaction() as tx:
            tx.execute("UPDATE class_sessions SET ended_at = ? WHERE id = ? AND ended_at IS "
                       "NULL", (self.clock(), session_id))
        return self.get(session_id)

    def end_overdue(self) -> int:
        """End sessions left running longer than MAX_SESSION_SECONDS (at that limit)."""
        cutoff = self.clock() - MAX_SESSION_SECONDS
        if self.db.one("SELECT 1 FROM class_sessions WHERE ended_at IS NULL AND started_at < ?",
                       (cutoff,)) is None:
            return 0   # the common case reads only (a write is an fsync)
        with self.db.transaction() as tx:
            cur = tx.execute("UPDATE class_sessions SET ended_at = started_at + ? WHERE "
                             "ended_at IS NULL AND started_at < ?",
                             (MAX_SESSION_SECONDS, cutoff))
        return cur.rowcount

    def get(self, session_id: int) -> ClassSession:
        row = self.db.one("SELECT * FROM class_sessions WHERE id = ?", (session_id,))
        if row is None:
            raise Problem(N_("There is no lesson number %(session_id)s."), code="not_found",
                          session_id=session_id)
        return _session_from(row)

    def running(self, class_id: int) -> ClassSession | None:
        """The class's running session, if any (an overdue one has ended)."""
        row = self.db.one("SELECT * FROM class_sessions WHERE class_id = ? AND ended_at IS NULL",
                          (class_id,))
        if row is None:
            return None
        if row["started_at"] < self.clock() - MAX_SESSION_SECONDS:
            self.end_overdue()
            return None
        return _session_from(row)

    def sessions(self, class_id: int | None = None) -> list[ClassSession]:
        """Sessions, newest first: of one class, or of the whole kit."""
        if class_id is None:
            rows = self.db.query("SELECT * FROM class_sessions ORDER BY started_at DESC, id DESC")
        else:
            rows = self.db.query("SELECT * FROM class_sessions WHERE class_id = ? ORDER BY "
                                 "started_at DESC, id DESC", (class_id,))
        return [_session_from(r) for r in rows]

    def records(self, kit_id: str, term: str | None = None) -> list[SessionRecord]:
        """The sessions as the implementation report takes them (of one term, or all)."""
        return [SessionRecord(s.uuid, kit_id, s.class_uuid, s.class_name, s.grade,
                              s.started_at, s.class_hours, s.lab_ids, s.cross_disciplinary)
                for s in reversed(self.sessions())
                if term is None or s.term == term]

    def terms(self) -> list[str]:
        """Every term that has sessions, newest first."""
        return sorted({s.term for s in self.sessions()}, reverse=True)

    @staticmethod
    def _class_row(tx: object, class_id: int) -> object:
        row = tx.execute("SELECT id, name, uuid FROM classes WHERE id = ?",  # type: ignore
                         (class_id,)).fetchone()
        if row is None:
            raise Problem(N_("There is no class number %(class_id)s."),
                          fix=N_("Pick a class from the list."), code="not_found",
                          class_id=class_id)
        return row
