"""The kit's records: roster, lab runs, portfolio, teacher PIN — SQLite plus atomic files.

    store = Store(settings.data_dir)           # or Store.for_runtime(runtime): one per process
    cls = store.roster.add_class("三年级二班")
    kid = store.roster.add_student(cls.id, "王芳")
    run_id = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led", steps_total=3)
    store.runs.record_step(run_id, "see", "face_seen")

Everything lives under the data dir: `labkit.sqlite3` (WAL) and `portfolio/` for kept files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.store.classroom import Classroom
from labkit.store.db import DB_NAME, Database
from labkit.store.files import Artefacts
from labkit.store.grading import Grading
from labkit.store.pin import PinAttempts, PinRecovery, TeacherPin
from labkit.store.identity import KitIdentity
from labkit.store.looks import Looks
from labkit.store.problems import N_, Problem, RosterImportError
from labkit.store.roster import Roster, SchoolClass, Student
from labkit.store.runs import Artefact, Run, Runs, Score, StepResult
from labkit.store.sessions import Sessions, WebSession
from labkit.store.showcase import ShowcaseCards
from labkit.store.signin import SignIn

__all__ = ["Store", "Problem", "RosterImportError", "SchoolClass", "Student", "Run", "Score",
           "StepResult", "Artefact", "N_", "WebSession"]


class Store:
    """One database connection and the repositories built on it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.db = Database(self.data_dir / DB_NAME)
        self.roster = Roster(self.db)
        self.runs = Runs(self.db)
        self.grading = Grading(self.db)
        self.artefacts = Artefacts(self.db, self.data_dir / "portfolio")
        self.artefacts.seal_clear_files()   # files kept before encryption existed
        ShowcaseCards(self.data_dir / "showcase").seal_clear_files()
        self.pin = TeacherPin(self.db)
        self.pin_attempts = PinAttempts(self.db)
        self.pin_recovery = PinRecovery(self.db)
        self.sessions = Sessions(self.db)
        self.sign_in = SignIn(self.db, self.pin_attempts)
        self.identity = KitIdentity(self.db)
        self.classroom = Classroom(self.db)
        self.looks = Looks(self.db)
        self._before_close: list[Any] = []
        self._closed = False

    @property
    def kit_id(self) -> str:
        """This kit's stable id (a UUID made on its first start; see store/identity.py)."""
        return self.identity.kit_id

    @classmethod
    def for_runtime(cls, runtime: Any) -> "Store":
        """The process's shared store (one connection per kit process)."""
        return runtime.service("store", lambda: cls(runtime.settings.data_dir))

    def change_pin(self, pin: object, confirm: object) -> None:
        """Set a new teacher PIN and end every teacher session (a copied cookie dies too)."""
        self.pin.replace(pin, confirm)
        self.sessions.end_role("teacher")

    def delete_student(self, class_id: int, student_id: int) -> None:
        """Remove a student, their runs and their kept files."""
        self.roster.delete_student(class_id, student_id)
        self.artefacts.remove_files_of_student(student_id)

    def delete_class(self, class_id: int) -> None:
        students = self.roster.students(class_id)
        self.roster.delete_class(class_id)
        for student in students:
            self.artefacts.remove_files_of_student(student.id)

    def before_close(self, hook: Any) -> None:
        """Call `hook()` before the database closes (the lab runner ends its run first)."""
        self._before_close.append(hook)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for hook in self._before_close:
            try:
                hook()
            except Exception:  # closing must finish whatever a hook does
                import logging

                logging.getLogger(__name__).exception("a store close hook failed")
        self.db.close()
