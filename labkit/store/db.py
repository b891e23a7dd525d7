"""The kit's SQLite database: one file in the data dir, WAL mode, numbered migrations.

Why SQLite in WAL mode: a classroom Pi gets its plug pulled. With WAL and `synchronous=FULL`
every committed transaction survives a crash or a kill, an interrupted one vanishes whole, and
readers (the teacher's portfolio page) never block the writer (a running lab). All writes go
through `Database.transaction()`, so a run, its step results and its scores are never half
written. One connection per process, guarded by a lock: waitress serves requests from many
threads, and sqlite3 connections must not be used by two threads at once.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from labkit.errors import LabkitError
from labkit.store.migrations import MIGRATIONS
from labkit.store.problems import N_, Problem

log = logging.getLogger(__name__)

DB_NAME = "labkit.sqlite3"


def _make_private(path: Path) -> None:
    """The store (and its WAL/shm companions) readable by the owner only (0600).

    The file is created 0600 before SQLite opens it, so SQLite gives the -wal and -shm files
    the same mode; existing files from an older kit or a copied data dir are tightened.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(fd)
    for companion in (path, path.with_name(path.name + "-wal"),
                      path.with_name(path.name + "-shm")):
        try:
            if stat.S_IMODE(companion.lstat().st_mode) & 0o077:
                os.chmod(companion, 0o600)
        except FileNotFoundError:
            pass


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def storage_full() -> Problem:
    """The one message for a full disk, wherever the write failed."""
    return Problem(N_("The kit's storage is full; this was not saved. Everything saved "
                      "before is safe."),
                   fix=N_("Ask the teacher to free space on the kit (delete old exports or "
                          "projects), then try again."), code="storage_full")


def _full_or(exc: sqlite3.OperationalError) -> Exception:
    text = str(exc).lower()
    if "disk is full" in text or "database or disk is full" in text or "no space" in text:
        return storage_full()
    return exc


class Database:
    """A thread-safe SQLite connection with explicit transactions."""

    def __init__(self, path: Path, *, timeout: float = 10.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _make_private(self.path)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so nothing is committed
            # behind our back (the sqlite3 module's implicit transactions are too clever).
            self._conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None,
                                         check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise LabkitError(f"cannot open the kit's database {self.path} ({exc})",
                              fix="check that the data dir is writable (LABKIT_DATA)",
                              code="database") from None
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._identity = _identity(self.path)
        self.gone = False
        try:
            self._configure(timeout)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise LabkitError(f"the kit's database {self.path} is damaged or not a database "
                              f"({exc})", code="database",
                              fix="restore it from a backup, or move it away to start empty"
                              ) from None

    def _configure(self, timeout: float) -> None:
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL mode (got %s) for %s", mode, self.path)
        # FULL: a commit is on disk before it returns (power cuts, not only process kills).
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")

    # ---- schema ---------------------------------------------------------------------------
    @property
    def version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.version
        latest = len(MIGRATIONS)
        if current > latest:
            raise LabkitError(
                f"the kit's database {self.path} was written by a newer labkit (schema "
                f"{current}, this labkit knows {latest})", code="database",
                fix="update labkit on this kit, or point LABKIT_DATA at another folder")
        for number, statements in enumerate(MIGRATIONS[current:], start=current + 1):
            # Each migration and its version bump commit together, or not at all.
            with self.transaction() as tx:
                for statement in statements:
                    tx.execute(statement)
                tx.execute(f"PRAGMA user_version={number}")
            log.info("database %s migrated to schema %d", self.path.name, number)

    # ---- access ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`with db.transaction() as tx:` — everything inside commits together or not at all.

        BEGIN IMMEDIATE takes the write lock up front, so two writers (the web server and a
        headless `labkit run`) queue instead of failing halfway. Nested use joins the outer
        transaction.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self.check_file()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _full_or(exc) from None
            self._depth = 1
            try:
                yield self._conn
            except BaseException as exc:
                self._depth = 0
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass   # SQLite already rolled back (a full disk does that)
                if isinstance(exc, sqlite3.OperationalError):
                    raise _full_or(exc) from None
                raise
            self._depth = 0
            try:
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise _full_or(exc) from None

    def file_replaced(self) -> bool:
        """True once the database file on disk is no longer the one this kit opened."""
        if not self.gone and _identity(self.path) != self._identity:
            self.gone = True
            log.error("the database file %s was removed or replaced under the running kit",
                      self.path)
        return self.gone

    def check_file(self) -> None:
        """Refuse to write when the database file on disk is no longer the one we opened.

        A file deleted or replaced under a running kit (a teacher "cleaning" the data dir, a
        restore copied over it) would otherwise take every write into an unlinked inode: the
        page says "saved", and after a restart it is all gone. The check is one stat() per
        write transaction; once the file is gone the kit stays read-only until it restarts.
        """
        if self.file_replaced():
            raise Problem(N_("The kit's database file was removed or replaced while the kit "
                             "was running, so nothing more is saved."),
                          fix=N_("Restart the kit; it opens the database file that is there "
                                 "now."), code="store_gone")

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def integrity_check(self) -> str:
        """'ok' when SQLite finds nothing wrong with the file."""
        with self._lock:
            return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            self._conn.close()
