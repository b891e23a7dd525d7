"""Who this browser is: the teacher's and the student's server-side sessions.

The signed Flask cookie holds only random tokens (`teacher`, `student`); the rows live in the
store (`labkit.store.sessions`), so logging out, a PIN change or two idle hours end a session
for good — a cookie copied before that no longer works. The lookup is done once per request.

A student session is *verified* when the child proved who they are (picture password or class
code). An unverified one is a fresh lab session: it may run labs and save new work, and sees
only what it made itself (recorded as grants), never the work that name saved before.
"""

from __future__ import annotations

from typing import Any

from flask import g, session

from labkit.store import Store, Student, WebSession
from labkit.store.pin import KIOSK, NETWORK
from labkit.web.access import is_kit_local
from labkit.web.common import kit_runtime

TEACHER_KEY = "teacher"
STUDENT_KEY = "student"


def store() -> Store:
    return Store.for_runtime(kit_runtime())


# ---- teacher ---------------------------------------------------------------------------------
def teacher_session() -> WebSession | None:
    if "labkit_teacher" not in g:
        g.labkit_teacher = store().sessions.get(session.get(TEACHER_KEY), "teacher")
        if g.labkit_teacher is None:
            session.pop(TEACHER_KEY, None)
    return g.labkit_teacher


def is_teacher() -> bool:
    return teacher_session() is not None


def open_teacher_session() -> None:
    """Sign this browser in as the teacher with a fresh token (never reuse one: fixation)."""
    store().sessions.end(session.get(TEACHER_KEY))
    session[TEACHER_KEY] = store().sessions.open("teacher")
    g.pop("labkit_teacher", None)


def end_teacher_session() -> None:
    store().sessions.end(session.pop(TEACHER_KEY, None))
    g.pop("labkit_teacher", None)


def pin_counter() -> str:
    """Which wrong-PIN counter this request counts against: the kit's screen has its own."""
    return KIOSK if is_kit_local() else NETWORK


# ---- student ---------------------------------------------------------------------------------
def student_session() -> WebSession | None:
    if "labkit_student" not in g:
        g.labkit_student = store().sessions.get(session.get(STUDENT_KEY), "student")
        if g.labkit_student is None:
            session.pop(STUDENT_KEY, None)
    return g.labkit_student


def session_student() -> Student | None:
    """The roster entry of this browser's student session (None if ended or removed)."""
    ws = student_session()
    if ws is None or ws.student_id is None:
        return None
    return store().roster.student_by_id(ws.student_id)


def is_student() -> bool:
    return session_student() is not None


def open_student_session(student: Student, *, verified: bool) -> None:
    store().sessions.end(session.get(STUDENT_KEY))
    session[STUDENT_KEY] = store().sessions.open("student", student_id=student.id,
                                                 verified=verified)
    g.pop("labkit_student", None)


def end_student_session() -> None:
    store().sessions.end(session.pop(STUDENT_KEY, None))
    g.pop("labkit_student", None)


def grant(kind: str, item: Any) -> None:
    """Note that this browser's student session made `item` (a run, a /learn project)."""
    ws = student_session()
    if ws is not None:
        store().sessions.grant(ws, kind, item)


def sees_all_work_of(student_id: int) -> bool:
    """May this browser open everything `student_id` saved (teacher, or that child verified)?"""
    if is_teacher():
        return True
    ws = student_session()
    return ws is not None and ws.student_id == student_id and ws.verified


def granted(kind: str) -> set[str]:
    ws = student_session()
    return set() if ws is None else store().sessions.granted(ws, kind)


def may_open(kind: str, item: Any, owner_id: int | None) -> bool:
    """May this browser open an item owned by student `owner_id`?"""
    if is_teacher():
        return True
    ws = student_session()
    if ws is None or owner_id is None or ws.student_id != owner_id:
        return False
    return ws.verified or str(item) in store().sessions.granted(ws, kind)
