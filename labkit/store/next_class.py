"""The store's part of making the kit ready for the next class: every running class session
ended and every student signed out, so the next class starts at the home page's name picker.

Nothing a student made is touched: roster, runs, scores, portfolio files and showcase cards
stay (a fresh *term* is labkit/store/term_reset.py). Both changes are one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ClassEnded:
    sessions_ended: int
    students_signed_out: int


def end_class(store: Any) -> ClassEnded:
    """End the running lessons and the students' web sessions of `store` (a Store)."""
    store.classroom.end_overdue()         # a forgotten lesson ends at its limit, not now
    with store.db.transaction() as tx:
        ended = tx.execute("UPDATE class_sessions SET ended_at = ? WHERE ended_at IS NULL",
                           (store.classroom.clock(),)).rowcount
        signed_out = tx.execute("DELETE FROM web_sessions WHERE role = 'student'").rowcount
    return ClassEnded(int(ended), int(signed_out))
