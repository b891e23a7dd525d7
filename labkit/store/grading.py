"""Grading a whole class at once: the teacher's rubric levels and a comment (评语) per student
and lab, saved together in one transaction — a class's grading screen is saved whole or not at
all, so a bad level on the 30th row never leaves the first 29 half-saved.

Rubric levels belong to a run (the `scores` table); the comment belongs to the student and the
lab, so a teacher can write one for a child who has not run the lab yet.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field

from labkit.store.db import Database
from labkit.store.problems import N_, Problem
from labkit.store.runs import Runs

COMMENT_MAX = 500


@dataclass(frozen=True)
class StudentGrade:
    """What the teacher set for one student on one lab."""
    student_id: int
    run_id: int | None                      # the run the levels go on; None: no run yet
    levels: dict[str, tuple[int, int]] = field(default_factory=dict)  # criterion → (level, max)
    comment: str = ""


def clean_comment(raw: object) -> str:
    """A comment as typed, with control characters (other than line breaks) removed."""
    text = unicodedata.normalize("NFC", str(raw or "")).replace("\r\n", "\n").strip()
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    if len(text) > COMMENT_MAX:
        raise Problem(N_("A comment is at most %(max)s characters (this one has %(count)s)."),
                      fix=N_("Shorten the comment."), code="bad_input", max=COMMENT_MAX,
                      count=len(text))
    return text


class Grading:
    """Teacher comments per (student, lab) and whole-class saves of levels + comments."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def comments_for_class(self, class_id: int) -> dict[tuple[int, str], str]:
        """{(student id, lab id): comment} for every comment in the class."""
        rows = self.db.query(
            "SELECT g.student_id, g.lesson_id, g.comment FROM grading_comments g "
            "JOIN students s ON s.id = g.student_id WHERE s.class_id = ?", (class_id,))
        return {(r["student_id"], r["lesson_id"]): r["comment"] for r in rows}

    def save_class(self, class_id: int, lesson_id: str, grades: list[StudentGrade]) -> None:
        """Write every student's levels and comment for `lesson_id`, all or nothing.

        Each student must be in `class_id` and each run must be that student's run of that lab
        (a forged form cannot grade another class's child)."""
        now = time.time()
        with self.db.transaction() as tx:
            for grade in grades:
                if not tx.execute("SELECT 1 FROM students WHERE id = ? AND class_id = ?",
                                  (grade.student_id, class_id)).fetchone():
                    raise Problem(N_("There is no student number %(student_id)s in this class."),
                                  fix=N_("Reload the grading page."), code="not_found",
                                  student_id=grade.student_id)
                if grade.run_id is not None:
                    if not tx.execute("SELECT 1 FROM runs WHERE id = ? AND student_id = ? AND "
                                      "lesson_id = ?", (grade.run_id, grade.student_id,
                                                        lesson_id)).fetchone():
                        raise Problem(N_("That run is not this student's run of this lab."),
                                      fix=N_("Reload the grading page."), code="not_found")
                    Runs._write_scores(tx, grade.run_id, "teacher", grade.levels, now)
                elif grade.levels:
                    raise Problem(N_("A student who has not run the lab gets a comment only."),
                                  fix=N_("Reload the grading page."), code="bad_input")
                comment = clean_comment(grade.comment)
                if comment:
                    tx.execute("INSERT OR REPLACE INTO grading_comments (student_id, lesson_id, "
                               "comment, updated_at) VALUES (?, ?, ?, ?)",
                               (grade.student_id, lesson_id, comment, now))
                else:
                    tx.execute("DELETE FROM grading_comments WHERE student_id = ? AND "
                               "lesson_id = ?", (grade.student_id, lesson_id))
