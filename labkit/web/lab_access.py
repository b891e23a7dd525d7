"""Which labs a student may open now: their class's session, else the labs left on for it.

One rule (`labkit.store.classroom.Classroom.open_labs`) for the lab picker, the lab page and
the start API; a teacher is never limited (they preview and demo every lab). A lab that is
closed for the student is hidden from the picker, and opening or starting it is refused with a
message that says why, in the student's language.
"""

from __future__ import annotations

from typing import Any

from labkit.store import N_, Problem, Store, Student
from labkit.web.common import kit_runtime


def _store() -> Store:
    return Store.for_runtime(kit_runtime())


def open_lab_ids(student: Student, all_labs: Any) -> set[str]:
    return _store().classroom.open_labs(student.class_id, all_labs)


def check_open(student: Student | None, lesson_id: str, all_labs: Any) -> None:
    """Refuse (403) a lab closed for this student's class; nothing for a teacher or nobody."""
    if student is None:
        return
    classroom = _store().classroom
    if lesson_id in classroom.open_labs(student.class_id, all_labs):
        return
    if classroom.running(student.class_id) is not None:
        raise Problem(N_("This lab is not part of today's lesson."),
                      fix=N_("Pick one of the labs your teacher opened for this lesson."),
                      code="lab_closed")
    raise Problem(N_("Your teacher has switched this lab off for your class."),
                  fix=N_("Pick another lab, or ask your teacher."), code="lab_closed")
