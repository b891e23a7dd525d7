"""A picture and a colour per child, chosen by the teacher, so a child who cannot read their
name yet finds it on the pick-your-name screen.

Both come from fixed sets (the pictures are bundled in the web layer's sprite, none of them a
picture-password picture, so a name's picture gives no hint to anyone's password); both are
optional, and nothing else about a child is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.store.db import Database
from labkit.store.problems import N_, Problem

PICTURES = ("bear", "rabbit", "bird", "boat", "rocket", "leaf", "ball", "house", "kite")
COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black")


@dataclass(frozen=True)
class Look:
    picture: str = ""
    colour: str = ""


class Looks:
    """The teacher's choice of picture and colour for each student (both may be empty)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def of_class(self, class_id: int) -> dict[int, Look]:
        rows = self.db.query("SELECT l.student_id, l.picture, l.colour FROM student_looks l "
                             "JOIN students s ON s.id = l.student_id WHERE s.class_id = ?",
                             (class_id,))
        return {r["student_id"]: Look(r["picture"], r["colour"]) for r in rows}

    def get(self, student_id: int) -> Look:
        row = self.db.one("SELECT picture, colour FROM student_looks WHERE student_id = ?",
                          (student_id,))
        return Look() if row is None else Look(row["picture"], row["colour"])

    def set(self, student_id: int, *, picture: object = "", colour: object = "") -> Look:
        """Give a student a picture and colour ('' for none); anything else is refused."""
        picture, colour = str(picture or ""), str(colour or "")
        if picture and picture not in PICTURES:
            raise Problem(N_("There is no picture called \"%(name)s\"."),
                          fix=N_("Pick one of the pictures shown."), code="bad_input",
                          name=picture[:20])
        if colour and colour not in COLOURS:
            raise Problem(N_("There is no colour called \"%(name)s\"."),
                          fix=N_("Pick one of the colours shown."), code="bad_input",
                          name=colour[:20])
        with self.db.transaction() as tx:
            if tx.execute("SELECT 1 FROM students WHERE id = ?", (student_id,)).fetchone() is None:
                raise Problem(N_("There is no student number %(student_id)s."),
                              code="not_found", student_id=student_id)
            if picture or colour:
                tx.execute("INSERT OR REPLACE INTO student_looks (student_id, picture, colour) "
                           "VALUES (?, ?, ?)", (student_id, picture, colour))
            else:
                tx.execute("DELETE FROM student_looks WHERE student_id = ?", (student_id,))
        return Look(picture, colour)
