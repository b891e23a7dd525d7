"""Who is signed in, kept server-side so a session can be ended.

A signed cookie alone cannot be revoked: whoever copied it keeps it until it expires. So the
browser's cookie holds only a random token, and the row for it lives here (as a SHA-256 of the
token, so a copy of the database gives no usable token). Logging out, changing the PIN, or two
idle hours delete the row, and the copied cookie stops working at once.

Student sessions use the same table: `verified` says whether the child proved who they are
(picture password or class code). An unverified session sees only what it made itself; those
items are recorded as `session_grants`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Callable

from labkit.store.db import Database

TEACHER = "teacher"
STUDENT = "student"
IDLE_SECONDS = {TEACHER: 2 * 3600.0, STUDENT: 4 * 3600.0}
MAX_SECONDS = {TEACHER: 10 * 3600.0, STUDENT: 10 * 3600.0}
TOUCH_EVERY_S = 30.0   # last_seen is written at most this often (each write is an fsync)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class WebSession:
    token_hash: str
    role: str
    student_id: int | None
    verified: bool
    created_at: float
    last_seen: float


class Sessions:
    """Open, look up (with idle timeout), grant items to, and end web sessions."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def open(self, role: str, *, student_id: int | None = None, verified: bool = False) -> str:
        """A new session; returns the token to put in the browser's cookie."""
        if role not in IDLE_SECONDS:
            raise ValueError(role)
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO web_sessions (token_hash, role, student_id, verified, "
                       "created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
                       (_digest(token), role, student_id, int(verified), now, now))
        return token

    def get(self, token: object, role: str) -> WebSession | None:
        """The live session for `token` in `role`, or None (ended, idle too long, unknown)."""
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        digest = _digest(token)
        row = self.db.one("SELECT * FROM web_sessions WHERE token_hash = ? AND role = ?",
                          (digest, role))
        if row is None:
            return None
        now = self.clock()
        if (now - row["last_seen"] > IDLE_SECONDS[role]
                or now - row["created_at"] > MAX_SECONDS[role] or now < row["created_at"] - 60):
            self.end(token)
            return None
        if now - row["last_seen"] > TOUCH_EVERY_S:
            with self.db.transaction() as tx:
                tx.execute("UPDATE web_sessions SET last_seen = ? WHERE token_hash = ?",
                           (now, digest))
        return WebSession(digest, row["role"], row["student_id"], bool(row["verified"]),
                          row["created_at"], row["last_seen"])

    def end(self, token: object) -> None:
        if isinstance(token, str) and token:
            with self.db.transaction() as tx:
                tx.execute("DELETE FROM web_sessions WHERE token_hash = ?", (_digest(token),))

    def end_role(self, role: str) -> int:
        """End every session of a role (all teacher sessions when the PIN changes)."""
        with self.db.transaction() as tx:
            return tx.execute("DELETE FROM web_sessions WHERE role = ?", (role,)).rowcount

    def end_student(self, student_id: int) -> int:
        with self.db.transaction() as tx:
            return tx.execute("DELETE FROM web_sessions WHERE student_id = ?",
                              (student_id,)).rowcount

    def end_students_of_class(self, class_id: int) -> int:
        with self.db.transaction() as tx:
            return tx.execute("DELETE FROM web_sessions WHERE student_id IN "
                              "(SELECT id FROM students WHERE class_id = ?)", (class_id,)).rowcount

    def grant(self, session: WebSession, kind: str, item: object) -> None:
        """Record that this session made `item` (so an unverified session may open it)."""
        with self.db.transaction() as tx:
            tx.execute("INSERT OR IGNORE INTO session_grants (token_hash, kind, item) "
                       "VALUES (?, ?, ?)", (session.token_hash, kind, str(item)))

    def granted(self, session: WebSession, kind: str) -> set[str]:
        rows = self.db.query("SELECT item FROM session_grants WHERE token_hash = ? AND kind = ?",
                             (session.token_hash, kind))
        return {r["item"] for r in rows}

    def purge_expired(self) -> int:
        now = self.clock()
        removed = 0
        with self.db.transaction() as tx:
            for role, idle in IDLE_SECONDS.items():
                removed += tx.execute(
                    "DELETE FROM web_sessions WHERE role = ? AND (last_seen < ? OR created_at < ?)",
                    (role, now - idle, now - MAX_SECONDS[role])).rowcount
        return removed
