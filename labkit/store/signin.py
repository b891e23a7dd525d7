"""How a student proves who they are: nothing, a class code, or a picture password.

Per class the teacher picks the sign-in mode:
- `name`: picking a name is enough, but gives only a fresh lab session — the child can run
  labs and save new work, never open the work that name saved before;
- `code`: the class code shown on the teacher's screen opens the child's own portfolio;
- `pictures`: each child has a picture password — two of nine pictures (sun, moon, …), picked
  in any order — that a 7-year-old can remember, set by the teacher or generated and printed.

Picture passwords are weak on purpose (36 pairs), so wrong tries are limited per student with
the same atomic counter as the teacher PIN; they are stored as picture names because the
teacher must be able to print them again.
"""

from __future__ import annotations

import secrets
from typing import Iterable

from labkit.store.db import Database
from labkit.store.pin import PinAttempts
from labkit.store.problems import N_, Problem

MODES = ("name", "code", "pictures")
PICTURES = ("sun", "moon", "star", "tree", "fish", "cat", "car", "apple", "flower")
PICTURES_PER_PASSWORD = 2
CODE_DIGITS = 6
PICTURE_FREE_TRIES = 5
CODE_FREE_TRIES = 10


def check_pictures(picks: object) -> tuple[str, ...]:
    """Two different pictures from the nine, in a canonical (sorted) order."""
    if isinstance(picks, str):
        picks = [p for p in picks.replace(" ", ",").split(",") if p]
    if not isinstance(picks, (list, tuple)) or not all(isinstance(p, str) for p in picks):
        picks = []
    chosen = tuple(sorted(set(picks)))  # type: ignore[arg-type]
    if len(chosen) != PICTURES_PER_PASSWORD or len(picks) != PICTURES_PER_PASSWORD \
            or any(p not in PICTURES for p in chosen):
        raise Problem(N_("A picture password is two different pictures."),
                      fix=N_("Tap two pictures."), code="bad_pictures")
    return chosen


class SignIn:
    """The sign-in mode of each class, its class code, and the students' picture passwords."""

    def __init__(self, db: Database, attempts: PinAttempts) -> None:
        self.db = db
        self.attempts = attempts

    # ---- class mode and code ------------------------------------------------------------
    def mode(self, class_id: int) -> str:
        row = self.db.one("SELECT mode FROM class_sign_in WHERE class_id = ?", (class_id,))
        return str(row["mode"]) if row else "name"

    def code(self, class_id: int) -> str:
        row = self.db.one("SELECT code FROM class_sign_in WHERE class_id = ?", (class_id,))
        return str(row["code"]) if row else ""

    def set_mode(self, class_id: int, mode: object) -> str:
        """Switch a class's sign-in; turning on `code` (or asking again) makes a new code."""
        if mode not in MODES:
            raise Problem(N_("Unknown sign-in mode."), fix=N_("Pick one from the list."),
                          code="bad_input")
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS)) \
            if mode == "code" else ""
        with self.db.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO class_sign_in (class_id, mode, code) "
                       "VALUES (?, ?, ?)", (class_id, mode, code))
        return code

    def check_code(self, class_id: int, typed: object) -> bool:
        """Is `typed` this class's code? Wrong codes are limited per class."""
        self.attempts.reserve(f"class-code:{class_id}", CODE_FREE_TRIES)
        expected = self.code(class_id)
        ok = bool(expected) and isinstance(typed, str) and \
            secrets.compare_digest(typed.strip().encode("utf-8", "replace"), expected.encode())
        if ok:
            self.attempts.succeeded(f"class-code:{class_id}")
        return ok

    # ---- picture passwords --------------------------------------------------------------
    def pictures_of(self, student_id: int) -> tuple[str, ...] | None:
        row = self.db.one("SELECT pictures FROM student_pictures WHERE student_id = ?",
                          (student_id,))
        return tuple(row["pictures"].split(",")) if row else None

    def set_pictures(self, student_id: int, picks: object) -> tuple[str, ...]:
        chosen = check_pictures(picks)
        with self.db.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO student_pictures (student_id, pictures) "
                       "VALUES (?, ?)", (student_id, ",".join(chosen)))
        return chosen

    def generate_pictures(self, student_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
        """A random picture password for each student (the teacher prints them)."""
        out = {}
        for sid in student_ids:
            first = secrets.choice(PICTURES)
            second = secrets.choice([p for p in PICTURES if p != first])
            out[sid] = self.set_pictures(sid, [first, second])
        return out

    def check_pictures(self, student_id: int, picks: object) -> bool:
        """Are these the student's two pictures? Wrong tries are limited per student."""
        counter = f"pictures:{student_id}"
        self.attempts.reserve(counter, PICTURE_FREE_TRIES)
        expected = self.pictures_of(student_id)
        try:
            ok = expected is not None and check_pictures(picks) == expected
        except Problem:
            ok = False
        if ok:
            self.attempts.succeeded(counter)
        return ok
